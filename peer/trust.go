package peer

import (
	"fmt"
	"math"

	"github.com/genopt/gen"
)

// TrustConfig configures Trust. The zero value shrinks the scale by half
// when the measured decrease is under a quarter of the predicted one, grows
// it by half when it is over three quarters, and never lets it exceed 1:
// a pure safeguard that can only shorten GeN's steps.
type TrustConfig struct {
	// Low and High are the ratio thresholds (defaults 0.25 and 0.75).
	Low, High float64
	// Shrink and Grow multiply κ below Low and above High (defaults 0.5
	// and 1.5).
	Shrink, Grow float64
	// MaxScale bounds κ above (default 1); MinScale below (default 1e-3).
	MaxScale, MinScale float64
	// LRMin and LRMax, when positive, bound the scaled learning rate κ·α:
	// the inner rule's bounds, which scaling by κ could otherwise leave.
	LRMin, LRMax float64
}

// Trust wraps a GeN rule with a trust-region ratio test (Nocedal & Wright,
// "Numerical Optimization", 2nd ed., 2006, Algorithm 4.1, applied to the
// step length): on every step where the inner rule probed the line and
// accepted its estimate, it applies α = κ·α_inner, measures g(α) with one
// more forward pass and compares the decrease with the one the inner
// rule's quadratic model predicted,
//
//	ρ = (g(0) − g(α)) / (α·s − ½α²·c),   s = ∇f·u,  c = uᵀHu (or the fit's),
//
// then sets κ ← max(Shrink·κ, MinScale) if ρ < Low and
// κ ← min(Grow·κ, MaxScale) if ρ > High, for the steps that follow.
// Every rate the inner rule returns is scaled by κ — lazy steps and the
// failure policy's rates included — and kept within LRMin/LRMax.
// On a line that is quadratic ρ = 1; ρ falls when α* overshoots the true
// minimum because the loss is not locally quadratic. For approximate GeN the
// slope and curvature are those of its three-point fit,
// s = (g(−a) − g(a))/(2a) and c = (g(−a) − 2g(0) + g(a))/a².
//
// This is a prototype remedy for the greedy step's bias (CALIBRATION.md),
// not a published method.
type Trust struct {
	inner gen.Rule
	cfg   TrustConfig
	kappa float64
	// Checks counts the ratio tests made (one forward pass each).
	Checks int
}

var _ gen.Rule = (*Trust)(nil)

// NewTrust wraps inner; it panics on invalid settings.
func NewTrust(inner gen.Rule, cfg TrustConfig) *Trust {
	def := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	def(&cfg.Low, 0.25)
	def(&cfg.High, 0.75)
	def(&cfg.Shrink, 0.5)
	def(&cfg.Grow, 1.5)
	def(&cfg.MaxScale, 1)
	def(&cfg.MinScale, 1e-3)
	if inner == nil || !(cfg.Low < cfg.High) || !(cfg.Shrink > 0 && cfg.Shrink < 1) || !(cfg.Grow > 1) ||
		!(cfg.MinScale > 0 && cfg.MinScale <= cfg.MaxScale) {
		panic(fmt.Sprintf("peer: Trust: invalid settings %+v (or no inner rule)", cfg))
	}
	return &Trust{inner: inner, cfg: cfg, kappa: 1}
}

// Name describes the rule.
func (t *Trust) Name() string {
	return fmt.Sprintf("trust(%s, κ ≤ %g)", t.inner.Name(), t.cfg.MaxScale)
}

// Memory implements gen.Averaging: the inner rule's averaging time (0 when
// it has none).
func (t *Trust) Memory() int {
	if m, ok := t.inner.(gen.Averaging); ok {
		return m.Memory()
	}
	return 0
}

// Scale returns the current factor κ.
func (t *Trust) Scale() float64 { return t.kappa }

// Next implements gen.Rule.
func (t *Trust) Next(step int, line gen.Line) gen.Decision {
	d := t.inner.Next(step, line)
	lr := max(t.kappa*d.LR, t.cfg.LRMin, gen.MinPositiveLR)
	if t.cfg.LRMax > 0 {
		lr = min(lr, max(t.cfg.LRMax, gen.MinPositiveLR))
	}
	if !d.Updated || d.Reason != gen.OK {
		d.LR = lr
		return d
	}
	s, c := d.Slope, d.Curvature
	if math.IsNaN(s) || math.IsNaN(c) { // approximate GeN: its fit
		a := d.Probe
		s = (d.LossPlus - d.LossMinus) / (2 * a)
		c = (d.LossPlus - 2*d.Loss0 + d.LossMinus) / (a * a)
	}
	pred := lr*s - 0.5*lr*lr*c
	g0 := d.Loss0
	if !finite(g0) {
		g0 = line.At(0)
	}
	got := g0 - line.At(lr)
	t.Checks++
	rho := got / pred
	switch {
	case !finite(rho) || pred <= 0 || rho < t.cfg.Low:
		t.kappa = max(t.kappa*t.cfg.Shrink, t.cfg.MinScale)
	case rho > t.cfg.High:
		t.kappa = min(t.kappa*t.cfg.Grow, t.cfg.MaxScale)
	}
	d.LR = lr
	return d
}

// State implements gen.Rule: the inner rule's values, prefixed "inner.",
// and κ.
func (t *Trust) State() gen.State {
	return gen.WrapState("trust", t.inner.State(), map[string]float64{"kappa": t.kappa})
}

// SetState implements gen.Rule.
func (t *Trust) SetState(s gen.State) error {
	in, ok := s.Unwrap("trust")
	if !ok {
		return fmt.Errorf("peer: state is for rule %q, not a trust wrapper: resume with the same --lr setting", s.Kind)
	}
	// κ stays within [MinScale, max(MaxScale, 1)]: it starts at 1 and moves
	// by Shrink and Grow within the bounds.
	kappa, err := s.Value("kappa", t.cfg.MinScale*(1-1e-12), max(t.cfg.MaxScale, 1)*(1+1e-12))
	if err != nil {
		return err
	}
	if err := t.inner.SetState(in); err != nil {
		return err
	}
	t.kappa = kappa
	return nil
}
