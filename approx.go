package gen

import (
	"fmt"
	"math"
)

// ApproxConfig configures Approx. The zero value is the source text's scheme
// with γ = 0.9, Φ = 4, three probe points, automatic start.
type ApproxConfig struct {
	Limits
	// LR0 is α₀, the first probe size and the start of the smoothing. 0
	// starts automatically: the first update brackets the probe size
	// (×10, ÷10, ×100, …) until the fit is convex.
	LR0 float64
	// Gamma is γ in α_t = γ·α_{t−1} + (1−γ)·Δ (default 0.9; set NoSmoothing
	// for γ = 0). Must be in [0, 1).
	Gamma float64
	// NoSmoothing sets γ = 0: α_t = Δ.
	NoSmoothing bool
	// Every is Φ: the line is probed on steps t with t mod Φ = 0 (default 4).
	Every int
	// ProbeFactor multiplies the probe size: a = factor·α_{t−1} (default 1).
	ProbeFactor float64
	// MaxChange, when > 1, clips Δ to [α_{t−1}/MaxChange, MaxChange·α_{t−1}]
	// (the authors' code uses 2). Default 0: no clipping.
	MaxChange float64
	// FivePoint fits the parabola by least squares through g at
	// 0, ±a, ±2a (four extra forward passes) and records R².
	FivePoint bool
	// MaxBracket bounds the probe sizes tried by the automatic start
	// (default 8; one more fit may confirm a far-off estimate).
	MaxBracket int
	// StartLR is the first probe size of the automatic start (default 1e-3).
	StartLR float64
}

// Approx is approximate GeN, the source text's backpropagation-free scheme
// (Bu & Xu, arXiv:2407.02772, Algorithm 1): with a = α_{t−1},
//
//	f₋ = g(a) = f(θ − a·u),  f₀ = g(0),  f₊ = g(−a) = f(θ + a·u)
//	convex iff f₊ − 2f₀ + f₋ > 0
//	Δ = (a/2)·(f₊ − f₋)/(f₊ − 2f₀ + f₋)
//	α_t = γ·α_{t−1} + (1−γ)·Δ
//
// On a quadratic Δ is the exact minimizer along u for any a. The rule probes
// every Φ steps and keeps α in between; all losses are float64.
type Approx struct {
	cfg   ApproxConfig
	alpha float64 // α_{t−1}; 0 before the first update
}

var _ Rule = (*Approx)(nil)

// NewApprox returns an Approx rule; it panics on inconsistent settings.
func NewApprox(cfg ApproxConfig) *Approx {
	cfg.check("Approx")
	if cfg.NoSmoothing {
		cfg.Gamma = 0
	} else if cfg.Gamma == 0 {
		cfg.Gamma = 0.9
	}
	if cfg.Gamma < 0 || cfg.Gamma >= 1 {
		panic(fmt.Sprintf("gen: Approx: Gamma %g outside [0, 1)", cfg.Gamma))
	}
	if cfg.Every <= 0 {
		cfg.Every = 4
	}
	if cfg.ProbeFactor <= 0 {
		cfg.ProbeFactor = 1
	}
	if cfg.MaxBracket <= 0 {
		cfg.MaxBracket = 8
	}
	if cfg.StartLR <= 0 {
		cfg.StartLR = 1e-3
	}
	if cfg.MaxChange != 0 && cfg.MaxChange <= 1 {
		panic(fmt.Sprintf("gen: Approx: MaxChange %g must be > 1 (or 0 for none)", cfg.MaxChange))
	}
	if cfg.LR0 < 0 || math.IsNaN(cfg.LR0) {
		panic(fmt.Sprintf("gen: Approx: LR0 %g must be ≥ 0", cfg.LR0))
	}
	return &Approx{cfg: cfg, alpha: cfg.LR0}
}

// Name describes the rule.
func (a *Approx) Name() string {
	pts := 3
	if a.cfg.FivePoint {
		pts = 5
	}
	return fmt.Sprintf("gen(Φ=%d, γ=%g, %d points)", a.cfg.Every, a.cfg.Gamma, pts)
}

// fit is the outcome of one parabola fit along the line.
type fit struct {
	f0, fm, fp float64 // g(0), g(a), g(−a)
	delta, r2  float64
	reason     Reason
}

// fitAt probes the line at distance a and fits the parabola.
func (r *Approx) fitAt(line Line, a float64) fit {
	f := fit{f0: line.At(0), fm: line.At(a), fp: line.At(-a), delta: math.NaN(), r2: math.NaN()}
	if !r.cfg.FivePoint {
		curv := f.fp - 2*f.f0 + f.fm
		switch {
		case !finite(f.f0, f.fm, f.fp):
			f.reason = NonFinite
		case !(curv > 0):
			f.reason = NonConvex
		case !(f.fp > f.fm):
			f.reason = NonDescent
		default:
			f.delta = a / 2 * (f.fp - f.fm) / curv
		}
		return f
	}
	fm2, fp2 := line.At(2*a), line.At(-2*a)
	// Least squares of g(x·a) ≈ c0 + c1·x + c2·x² at x = −2…2.
	xs := [5]float64{-2, -1, 0, 1, 2}
	gs := [5]float64{fp2, f.fp, f.f0, f.fm, fm2}
	if !finite(gs[:]...) {
		f.reason = NonFinite
		return f
	}
	var sg, sxg, sxxg float64
	for i, x := range xs {
		sg += gs[i]
		sxg += x * gs[i]
		sxxg += x * x * gs[i]
	}
	// Normal equations with Σx = Σx³ = 0, Σx² = 10, Σx⁴ = 34, n = 5.
	c1 := sxg / 10
	c2 := (5*sxxg - 10*sg) / 70
	c0 := (34*sg - 10*sxxg) / 70
	mean := sg / 5
	var ssRes, ssTot float64
	for i, x := range xs {
		e := gs[i] - (c0 + c1*x + c2*x*x)
		ssRes += e * e
		ssTot += (gs[i] - mean) * (gs[i] - mean)
	}
	if ssTot > 0 {
		f.r2 = 1 - ssRes/ssTot
	}
	switch {
	case !(c2 > 0):
		f.reason = NonConvex
	case !(c1 < 0):
		f.reason = NonDescent
	default:
		f.delta = -c1 * a / (2 * c2)
	}
	return f
}

// Next implements Rule.
func (r *Approx) Next(step int, line Line) Decision {
	if step%r.cfg.Every != 0 && r.alpha > 0 {
		d := newDecision(r.cfg.clamp(r.alpha * r.cfg.Horizon.Factor(step)))
		d.Reason = Lazy
		return d
	}
	d := newDecision(0)
	d.Updated = true
	var f fit
	var a float64
	if r.alpha == 0 {
		f, a = r.start(line)
		if !f.reason.Failed() {
			r.alpha = r.cfg.clamp(f.delta)
		} else {
			r.alpha = r.cfg.onFailure(0, f.reason, r.cfg.Gamma)
		}
	} else {
		a = r.cfg.ProbeFactor * r.alpha
		f = r.fitAt(line, a)
		if f.reason.Failed() {
			r.alpha = r.cfg.onFailure(r.alpha, f.reason, r.cfg.Gamma)
		} else {
			delta := f.delta
			if m := r.cfg.MaxChange; m > 1 {
				delta = min(max(delta, r.alpha/m), m*r.alpha)
			}
			r.alpha = r.cfg.clamp(r.cfg.Gamma*r.alpha + (1-r.cfg.Gamma)*delta)
		}
	}
	d.Reason, d.Estimate, d.R2 = f.reason, f.delta, f.r2
	d.Loss0, d.LossMinus, d.LossPlus, d.Probe = f.f0, f.fm, f.fp, a
	if finite(f.fp, f.fm) && a > 0 {
		d.Slope = (f.fp - f.fm) / (2 * a) // central difference of −g'(0)
	}
	d.LR = r.cfg.clamp(r.alpha * r.cfg.Horizon.Factor(step))
	return d
}

// start brackets the probe size from StartLR: a, 10a, a/10, 100a, a/100, …
// until the fit is convex and descending, at most MaxBracket fits. When the
// accepted Δ is more than 10× away from the probe size, it re-probes once at
// a = Δ, where the parabola is a better model of the line (so at most
// MaxBracket + 1 fits in all). If that confirmation fails — the line is not
// convex or not finite that far out — Δ is not trusted beyond the probed
// region: it is clipped to [a/10, 10a].
func (r *Approx) start(line Line) (fit, float64) {
	base := r.cfg.StartLR
	var f fit
	var a float64
	for i := range r.cfg.MaxBracket {
		k := (i + 1) / 2
		a = base * math.Pow(10, float64(k))
		if i%2 == 0 && i > 0 {
			a = base / math.Pow(10, float64(k))
		}
		f = r.fitAt(line, a)
		if !f.reason.Failed() {
			break
		}
	}
	if !f.reason.Failed() && (f.delta > 10*a || f.delta < a/10) {
		if g := r.fitAt(line, f.delta); !g.reason.Failed() {
			return g, f.delta
		}
		f.delta = min(max(f.delta, a/10), 10*a)
	}
	return f, a
}

// State implements Rule.
func (r *Approx) State() State {
	return State{Kind: "gen", Values: map[string]float64{"alpha": r.alpha}}
}

// SetState implements Rule.
func (r *Approx) SetState(s State) error {
	if err := checkKind(s, "gen"); err != nil {
		return err
	}
	a, err := s.Value("alpha", 0, math.MaxFloat64) // 0: before the first update
	if err != nil {
		return err
	}
	r.alpha = a
	return nil
}
