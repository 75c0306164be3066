package gen

import (
	"fmt"
	"math"

	"github.com/genopt/gen/ad"
)

// ExactConfig configures Exact. The zero value is exact GeN with the
// Hessian, recomputed every step, unsmoothed and unbounded above.
type ExactConfig struct {
	Limits
	// Estimator is Smoothed (default: α_t = γ·α_{t−1} + (1−γ)·α*) or Mean
	// (α_t = S_t/C_t, the ratio of the averaged ∇f·u and uᵀHu).
	Estimator Estimator
	// Curvature is ad.Hessian (default) for uᵀHu or ad.GaussNewton for uᵀGu.
	Curvature ad.Curvature
	// Gamma smooths the estimate: α_t = γ·α_{t−1} + (1−γ)·α* (default 0:
	// no smoothing), or, with the Mean estimator, the averages of ∇f·u and
	// uᵀHu, whose shortest window it sets as in ApproxConfig.Gamma
	// (default 0.9; on fresh batches one jet's ratio is as noisy as one
	// probe's: MNIST MLP, 300 steps, Adam, fixed window: final loss 0.21
	// with γ = 0, 0.145 with 0.98). Must be in [0, 1).
	Gamma float64
	// NoSmoothing sets γ = 0 with the Mean estimator.
	NoSmoothing bool
	// FixedWindow keeps the Mean estimator's averages exponential with γ
	// for the whole run instead of a window that grows with it
	// (ApproxConfig.FixedWindow).
	FixedWindow bool
	// Every is Φ: the estimate is recomputed on steps t with t mod Φ = 0
	// and kept in between (default 1).
	Every int
	// Eager recomputes the estimate on every one of the first Eager steps,
	// whatever Φ (ApproxConfig.Eager; default 0).
	Eager int
}

// Exact is exact GeN: on each update it computes
//
//	α* = (∇f·u) / (uᵀHu) = −g'(0)/g″(0)
//
// from one jet sweep along the line (Bu & Xu, arXiv:2407.02772, eq. (3.1);
// the source text's "exact generalized Newton's method"), then smooths,
// applies the horizon factor and the bounds. When uᵀHu ≤ 0, ∇f·u ≤ 0 or a
// value is not finite, the failure policy decides.
type Exact struct {
	cfg       ExactConfig
	alpha     float64 // the smoothed estimate; 0 before the first update
	estimated bool    // alpha came from the jets, not from a fixed rate
	m         moments // the Mean estimator's averages
}

var _ Rule = (*Exact)(nil)

// NewExact returns an Exact rule; it panics on inconsistent settings.
func NewExact(cfg ExactConfig) *Exact {
	cfg.check("Exact")
	if cfg.NoSmoothing {
		cfg.Gamma = 0
	} else if cfg.Gamma == 0 && cfg.Estimator == Mean {
		cfg.Gamma = 0.9
	}
	if cfg.Gamma < 0 || cfg.Gamma >= 1 {
		panic(fmt.Sprintf("gen: Exact: Gamma %g outside [0, 1)", cfg.Gamma))
	}
	if cfg.Every <= 0 {
		cfg.Every = 1
	}
	return &Exact{cfg: cfg}
}

// Name describes the rule.
func (e *Exact) Name() string {
	est := ""
	if e.cfg.Estimator == Mean {
		est = "mean" + windowNote(e.cfg.FixedWindow) + ", "
	}
	return fmt.Sprintf("gen-exact(%s%s, Φ=%d, γ=%g%s%s)", est, e.cfg.Curvature, e.cfg.Every, e.cfg.Gamma, eagerSuffix(e.cfg.Eager, e.cfg.Every), e.cfg.Horizon.suffix())
}

// Next implements Rule.
func (e *Exact) Next(step int, line Line) Decision {
	if d, ok := e.Ahead(step); ok {
		return d
	}
	g0, d1, d2 := line.Jet(e.cfg.Curvature)
	d := newDecision(0)
	d.Updated = true
	d.Loss0, d.Slope, d.Curvature = g0, -d1, d2
	switch {
	case !finite(g0, d1, d2):
		d.Reason = NonFinite
	case d2 <= 0: // checked first, as Approx does: a concave line says nothing about its minimum
		d.Reason = NonConvex
	case d1 >= 0:
		d.Reason = NonDescent
	default:
		d.Estimate = -d1 / d2
		if !finite(d.Estimate) { // a tiny curvature overflows the ratio
			d.Reason, d.Estimate = NonFinite, math.NaN()
		}
	}
	est := d.Estimate
	if e.cfg.Estimator == Mean && finite(d1, d2) {
		// Every finite jet enters the averages; the decision is theirs.
		e.m.add(-d1, d2, probeGamma(e.cfg.Gamma, step, e.cfg.Every, e.cfg.Eager, e.cfg.FixedWindow))
		est, d.Reason = e.m.rate()
	}
	switch {
	case d.Reason.Failed():
		e.alpha, e.estimated = e.cfg.failRate(e.alpha, e.estimated, d.Reason, e.cfg.Gamma)
	case e.alpha == 0 || e.cfg.Estimator == Mean:
		e.alpha, e.estimated = e.cfg.clamp(est), true
	default:
		e.alpha, e.estimated = e.cfg.clamp(e.cfg.Gamma*e.alpha+(1-e.cfg.Gamma)*est), true
	}
	d.Estimated = e.estimated
	d.LR = e.cfg.clamp(e.alpha * e.cfg.Horizon.Factor(step))
	return d
}

// Memory implements Averaging: Φ/(1−γ) steps.
func (e *Exact) Memory() int { return memory(e.cfg.Every, e.cfg.Gamma) }

// Ahead implements Foresight: a lazy step keeps the last rate.
func (e *Exact) Ahead(step int) (Decision, bool) {
	return e.cfg.keepRate(step, lazy(step, e.cfg.Every, e.cfg.Eager), e.alpha, e.estimated)
}

// State implements Rule.
func (e *Exact) State() State {
	v := map[string]float64{"alpha": e.alpha, "estimated": b2f(e.estimated)}
	if e.cfg.Estimator == Mean {
		e.m.values(v)
	}
	return State{Kind: "gen-exact", Values: v}
}

// SetState implements Rule.
func (e *Exact) SetState(s State) error {
	if err := checkKind(s, "gen-exact"); err != nil {
		return err
	}
	return loadRate(s, e.cfg.Estimator, &e.alpha, &e.estimated, &e.m)
}
