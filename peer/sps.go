package peer

import (
	"fmt"
	"math"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
)

// SPSConfig configures SPS. The zero value is the defaults of the authors'
// code (github.com/IssamLaradji/sps): c = 0.5, f* = 0, first cap 1, the cap
// allowed to double once per 500 steps, no fixed upper bound.
type SPSConfig struct {
	// C is c in α = (f − f*)/(c·∇f·u) (default 0.5). Must be positive.
	C float64
	// FStar is f*, a lower bound of every batch loss (default 0, exact for
	// interpolating models and for non-negative losses as a bound).
	FStar float64
	// Max is γ_b, a fixed upper bound of α (SPS_max); 0 means none.
	Max float64
	// Init is the cap of the first step, γ_{−1} (default 1).
	Init float64
	// Growth and Period smooth the cap: α_t ≤ Growth^{1/Period}·α_{t−1}
	// (defaults 2 and 500: at most doubling per 500 steps; the authors set
	// Period to the number of batches per epoch). Growth ≤ 1 is misuse.
	Growth float64
	Period int
}

// SPS is the stochastic Polyak step size (Loizou, Vaswani, Laradji,
// Lacoste-Julien, "Stochastic Polyak step-size for SGD: an adaptive
// learning rate for fast convergence", AISTATS 2021, eq. (4), SPS_max),
// with the cap smoothing of the authors' code:
//
//	α_t = min( (f_i(θ) − f*) / (c·∇f_i·u),  Growth^{1/Period}·α_{t−1},  γ_b )
//
// where f_i is the batch loss g(0) and ∇f_i·u = −g'(0) (‖∇f_i‖² for SGD).
// It reads only g(0) and g'(0), from gen.Sloper when the line offers it and
// from a jet sweep otherwise. When ∇f·u ≤ 0 or a value is not finite it
// keeps the previous step (reason NonDescent or NonFinite); when
// f_i ≤ f* it takes the smallest positive step.
type SPS struct {
	cfg  SPSConfig
	prev float64 // α_{t−1}; 0 before the first step
}

var _ gen.Rule = (*SPS)(nil)

// NewSPS returns an SPS rule; it panics on invalid settings.
func NewSPS(cfg SPSConfig) *SPS {
	if cfg.C == 0 {
		cfg.C = 0.5
	}
	if cfg.Init == 0 {
		cfg.Init = 1
	}
	if cfg.Growth == 0 {
		cfg.Growth = 2
	}
	if cfg.Period == 0 {
		cfg.Period = 500
	}
	if !(cfg.C > 0) || !(cfg.Init > 0) || !(cfg.Growth > 1) || cfg.Period < 0 || cfg.Max < 0 || math.IsNaN(cfg.FStar) {
		panic(fmt.Sprintf("peer: SPS: invalid settings %+v", cfg))
	}
	return &SPS{cfg: cfg}
}

// Name describes the rule.
func (s *SPS) Name() string {
	return fmt.Sprintf("sps(c=%g, f*=%g, growth %g per %d steps)", s.cfg.C, s.cfg.FStar, s.cfg.Growth, s.cfg.Period)
}

// cap returns the smoothed upper bound of this step.
func (s *SPS) cap() float64 {
	c := s.cfg.Init
	if s.prev > 0 {
		c = s.prev * math.Pow(s.cfg.Growth, 1/float64(s.cfg.Period))
	}
	if s.cfg.Max > 0 {
		c = min(c, s.cfg.Max)
	}
	return c
}

// Next implements gen.Rule.
func (s *SPS) Next(_ int, line gen.Line) gen.Decision {
	g0, d1 := slope(line)
	d := decision()
	d.Updated = true
	d.Loss0, d.Slope = g0, -d1
	hi := s.cap()
	lr := hi
	switch {
	case !finite(g0, d1):
		d.Reason = gen.NonFinite
		lr = s.keep()
	case d1 >= 0:
		d.Reason = gen.NonDescent
		lr = s.keep()
	default:
		d.Estimate = max(g0-s.cfg.FStar, 0) / (s.cfg.C * -d1)
		lr = max(min(d.Estimate, hi), gen.MinPositiveLR)
	}
	s.prev = lr
	d.LR = lr
	return d
}

// keep is the step taken when the Polyak step is undefined.
func (s *SPS) keep() float64 {
	if s.prev > 0 {
		return s.prev
	}
	return s.cfg.Init
}

// State implements gen.Rule.
func (s *SPS) State() gen.State {
	return gen.State{Kind: "sps", Values: map[string]float64{"prev": s.prev}}
}

// SetState implements gen.Rule.
func (s *SPS) SetState(st gen.State) error {
	if st.Kind != "sps" {
		return fmt.Errorf("peer: state is for rule %q, not sps: resume with the same --lr setting", st.Kind)
	}
	prev, err := st.Value("prev", 0, math.MaxFloat64) // 0: before the first step
	if err != nil {
		return err
	}
	s.prev = prev
	return nil
}

// slope returns g(0) and g'(0), cheaply when the line is a gen.Sloper.
func slope(line gen.Line) (g0, d1 float64) {
	if sl, ok := line.(gen.Sloper); ok {
		return sl.Slope()
	}
	g0, d1, _ = line.Jet(ad.Hessian)
	return g0, d1
}

// decision returns a Decision whose quantities are all NaN (not computed).
func decision() gen.Decision {
	n := math.NaN()
	return gen.Decision{Estimate: n, Loss0: n, LossMinus: n, LossPlus: n, Probe: n, Slope: n, Curvature: n, R2: n}
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
