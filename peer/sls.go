package peer

import (
	"fmt"
	"math"

	"github.com/genopt/gen"
)

// SLSConfig configures SLS. The zero value is the defaults of the authors'
// code (github.com/IssamLaradji/sls, reset option 1): c = 0.1, β = 0.9,
// first trial step 1, the trial step allowed to double once per 500 steps,
// at most 100 backtracks.
type SLSConfig struct {
	// C is the Armijo constant c (default 0.1). Must be in (0, 1).
	C float64
	// Beta is the backtracking factor β (default 0.9). Must be in (0, 1).
	Beta float64
	// Init is the first trial step (default 1).
	Init float64
	// Growth and Period reset the trial step of step t to
	// Growth^{1/Period}·α_{t−1} (defaults 2 and 500; the authors set Period
	// to the number of batches per epoch). Growth < 1 is misuse.
	Growth float64
	Period int
	// MaxBacktracks bounds the backtracking (default 100); when it is
	// exhausted the step is Failed (default 1e-6, as in the authors' code).
	MaxBacktracks int
	Failed        float64
}

// SLS is the stochastic Armijo line search (Vaswani, Mishkin, Laradji,
// Schmidt, Gidel, Lacoste-Julien, "Painless stochastic gradient:
// interpolation, line-search, and convergence rates", NeurIPS 2019,
// Algorithm 1 with reset option 1): starting from the trial step
// η = Growth^{1/Period}·α_{t−1}, it sets η ← β·η until
//
//	g(η) ≤ g(0) − c·η·(∇f·u)      (for SGD: f(θ − η∇f) ≤ f(θ) − c·η·‖∇f‖²)
//
// on the batch of the line, one forward pass per trial. The Decision
// carries the accepted η as Estimate and Probe, and g(η) as LossMinus. When ∇f·u ≤ 0 or g(0) is
// not finite it keeps the previous step (NonDescent, NonFinite); when the
// backtracking is exhausted it takes Failed with reason NonDescent.
type SLS struct {
	cfg  SLSConfig
	prev float64 // α_{t−1}; 0 before the first step
	// Trials counts the forward passes the search has made since creation.
	Trials int
}

var _ gen.Rule = (*SLS)(nil)

// NewSLS returns an SLS rule; it panics on invalid settings.
func NewSLS(cfg SLSConfig) *SLS {
	if cfg.C == 0 {
		cfg.C = 0.1
	}
	if cfg.Beta == 0 {
		cfg.Beta = 0.9
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
	if cfg.MaxBacktracks == 0 {
		cfg.MaxBacktracks = 100
	}
	if cfg.Failed == 0 {
		cfg.Failed = 1e-6
	}
	if !(cfg.C > 0 && cfg.C < 1) || !(cfg.Beta > 0 && cfg.Beta < 1) || !(cfg.Init > 0) || !(cfg.Growth >= 1) ||
		cfg.Period < 0 || cfg.MaxBacktracks < 0 || !(cfg.Failed > 0) {
		panic(fmt.Sprintf("peer: SLS: invalid settings %+v", cfg))
	}
	return &SLS{cfg: cfg}
}

// Name describes the rule.
func (s *SLS) Name() string {
	return fmt.Sprintf("sls(armijo c=%g, β=%g, growth %g per %d steps)", s.cfg.C, s.cfg.Beta, s.cfg.Growth, s.cfg.Period)
}

// Next implements gen.Rule.
func (s *SLS) Next(_ int, line gen.Line) gen.Decision {
	g0, d1 := slope(line)
	d := decision()
	d.Updated = true
	d.Loss0, d.Slope = g0, -d1
	keep := s.cfg.Init
	if s.prev > 0 {
		keep = s.prev
	}
	switch {
	case !finite(g0, d1):
		d.Reason = gen.NonFinite
		d.LR = keep
	case d1 >= 0:
		d.Reason = gen.NonDescent
		d.LR = keep
	default:
		eta := keep
		if s.prev > 0 {
			eta = s.prev * math.Pow(s.cfg.Growth, 1/float64(s.cfg.Period))
		}
		d.LR = s.cfg.Failed
		d.Reason = gen.NonDescent
		for k := 0; k <= s.cfg.MaxBacktracks; k++ {
			gi := line.At(eta)
			s.Trials++
			if gi <= g0+s.cfg.C*eta*d1 { // g(η) ≤ g(0) − c·η·(∇f·u)
				d.LR, d.Estimate, d.LossMinus, d.Probe, d.Reason = eta, eta, gi, eta, gen.OK
				break
			}
			eta *= s.cfg.Beta
		}
	}
	d.LR = max(d.LR, gen.MinPositiveLR)
	s.prev = d.LR
	return d
}

// State implements gen.Rule.
func (s *SLS) State() gen.State {
	return gen.State{Kind: "sls", Values: map[string]float64{"prev": s.prev}}
}

// SetState implements gen.Rule.
func (s *SLS) SetState(st gen.State) error {
	if st.Kind != "sls" {
		return fmt.Errorf("peer: state is for rule %q, not sls: resume with the same --lr setting", st.Kind)
	}
	prev, err := st.Value("prev", 0, math.MaxFloat64) // 0: before the first step
	if err != nil {
		return err
	}
	s.prev = prev
	return nil
}
