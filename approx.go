package gen

import (
	"fmt"
	"math"
)

// ApproxConfig configures Approx. The zero value is the source text's scheme
// with γ = 0.9, Φ = 4, three probe points, automatic start; with Estimator
// Mean, γ defaults to 0.9 and the averages' window grows with the run.
type ApproxConfig struct {
	Limits
	// Estimator is Smoothed (default: the source text's average of the
	// per-probe minimizers) or Mean (the ratio of the averaged slope and
	// curvature).
	Estimator Estimator
	// LR0 is α₀. With the Smoothed estimator it is the first probe size
	// and the start of the smoothing; with Mean it is only where the
	// automatic start begins its bracket (the rate always comes from the
	// fit). 0 starts automatically: the first update brackets the probe
	// size (×10, ÷10, ×100, …) until the fit is convex and descending,
	// then re-probes at the estimate until it lies within a factor 2 of
	// the probe size.
	LR0 float64
	// Gamma is γ in α_t = γ·α_{t−1} + (1−γ)·Δ, or in the Mean estimator's
	// averages, where it is the shortest window, 1/(1−γ) probes, before the
	// window grows with the run (FixedWindow). Default 0.9. With a fixed
	// window the Mean estimator needed γ = 0.98 (late in training the
	// slope's mean is small beside its spread, and a short window follows
	// the noise: scripts/mnist-default, seeds 1–5, a fixed window with
	// γ 0.9 97.74 %, the former default — fixed, γ 0.98, no eager probing —
	// 98.05 %); the growing window does that job,
	// and a short first window follows the start's fast-changing rate
	// (γ 0.9 / 0.98 → 98.12 / 98.10 %, softmax regression at 300 steps
	// 0.998× / 1.003× the best constant Adam: docs/results/adam-horizon.md).
	// Set NoSmoothing for γ = 0. Must be in [0, 1).
	Gamma float64
	// NoSmoothing sets γ = 0: α_t = Δ.
	NoSmoothing bool
	// FixedWindow keeps the Mean estimator's averages exponential with γ
	// for the whole run. By default their window grows with the run: the
	// probe of step t enters with γₜ = max(γ, 1 − 1/n), n = t/Φ + 1, so
	// once the run is longer than 1/(1−γ) probes S and C become means over
	// the whole run so far (the n-th probe weighs 1/n). At a noise floor
	// each probe's S/C is half the applied rate (docs/design-notes.md): a
	// fixed window then halves the rate once per window, a geometric decay
	// that ends long runs too short, while the growing window's rate is
	// half the mean of the rates before it and falls as 1/√t, the rate of
	// the convex stochastic approximation theory (Nemirovski, Juditsky, Lan
	// & Shapiro, SIAM J. Optim. 2009) and of the transformer's
	// inverse-square-root schedule (Vaswani et al., 2017);
	// TestWindowSetsTheDecayAtAFloor checks both laws. On the character
	// model at 1500 and 5000 steps the growing window ends at 0.99× and
	// 0.97× the best constant Adam's loss, a fixed one at 1.05× and 1.04×
	// (docs/results/adam-horizon.md). A whole-run mean also keeps the
	// start's outliers: with exact GeN on the GPT, two huge negative
	// curvatures of the first jets held the mean curvature below zero for
	// 1 100 steps (docs/results/full).
	FixedWindow bool
	// Every is Φ: the line is probed on steps t with t mod Φ = 0 (default
	// ApproxEvery).
	Every int
	// Eager probes every one of the first Eager steps, whatever Φ (default
	// 0: none; the command's default for the Mean estimator is 10). While a
	// momentum direction fills (about 1/(1−β₁) steps) it turns from one
	// step to the next, and a rate held for Φ steps carries the step past
	// the minimum along the line: on the character model the loss climbed
	// for ten steps after the start with Φ = 4 (docs/results/adam-horizon.md).
	// With the Mean estimator an eager probe, which sets the rate of one
	// step, enters the averages with γ^(1/Φ) instead of γ: the averages
	// remember Φ/(1−γ) steps however often they are fed, and the start's
	// probes — large in slope and curvature while |u| is — weigh no more
	// than Φ-spaced probes of the same steps would.
	Eager int
	// ProbeFactor multiplies the probe size: a = factor·α_{t−1} (default 1).
	ProbeFactor float64
	// MaxChange, when > 1, clips Δ to [α_{t−1}/MaxChange, MaxChange·α_{t−1}]
	// (the authors' code uses 2). Default 0: no clipping.
	MaxChange float64
	// FivePoint fits the parabola by least squares through g at
	// 0, ±a, ±2a (four extra forward passes) and records R².
	FivePoint bool
	// Trend, when positive, watches the losses at θ of the last Trend
	// probes (their batches' g(0)): when their least-squares slope against
	// the step is positive by more than two standard errors, the loss has
	// risen over that stretch, so the rate is running away even though
	// every probe passed on its own, and the probe counts as failed (reason
	// Rising; the failure policy applies) and the watch starts afresh.
	// Along AdamW's direction on the transformer the fitted minimizer grew
	// with the probe size, so a rate that probes at its own length could
	// lengthen itself for hundreds of steps while the loss rose
	// (docs/results/gpt.md). Default 0: off.
	Trend int
	// TrendZ is the watch's threshold in standard errors of the slope
	// (default DefaultTrendZ). On the transformer 3 and 1.5 both ended higher than 2:
	// the watch's resets are a brake that rule needs (docs/results/gpt.md).
	TrendZ float64
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
//
// With the Mean estimator the rule keeps the averages of the probes' slopes
// s = (f₊ − f₋)/(2a) and curvatures c = (f₊ − 2f₀ + f₋)/a² instead, and
// α_t = S_t/C_t (see Mean).
type Approx struct {
	cfg       ApproxConfig
	alpha     float64 // α_{t−1}; 0 before the first update
	estimated bool    // alpha came from the probes, not from a fixed rate
	m         moments // the Mean estimator's averages
	recall    logMean // the accepted estimates, for the Recall policy
	trend     trend   // the last probes' losses at θ, when Trend > 0
}

var _ Rule = (*Approx)(nil)

// DefaultTrendZ is the trend watch's threshold when none is set: a rise of
// two standard errors of the slope (ApproxConfig.TrendZ).
const DefaultTrendZ float64 = 2

// ApproxEvery is approximate GeN's Φ when none is set: a probe every 4
// steps, as the source text's experiments.
const ApproxEvery = 4

// NewApprox returns an Approx rule; it panics on inconsistent settings.
func NewApprox(cfg ApproxConfig) *Approx {
	cfg.check("Approx")
	if cfg.NoSmoothing {
		cfg.Gamma = 0
	} else if cfg.Gamma == 0 {
		cfg.Gamma = 0.9
		if cfg.Estimator == Mean {
			cfg.Gamma = 0.9
		}
	}
	if cfg.Gamma < 0 || cfg.Gamma >= 1 {
		panic(fmt.Sprintf("gen: Approx: Gamma %g outside [0, 1)", cfg.Gamma))
	}
	if cfg.Every <= 0 {
		cfg.Every = ApproxEvery
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
	if cfg.TrendZ < 0 || math.IsNaN(cfg.TrendZ) || math.IsInf(cfg.TrendZ, 0) {
		panic(fmt.Sprintf("gen: Approx: TrendZ %g must be a positive number of standard errors (or 0 for %g)", cfg.TrendZ, DefaultTrendZ))
	}
	if cfg.TrendZ == 0 {
		cfg.TrendZ = DefaultTrendZ
	}
	if cfg.MaxChange != 0 && cfg.MaxChange <= 1 {
		panic(fmt.Sprintf("gen: Approx: MaxChange %g must be > 1 (or 0 for none)", cfg.MaxChange))
	}
	if cfg.LR0 < 0 || math.IsNaN(cfg.LR0) {
		panic(fmt.Sprintf("gen: Approx: LR0 %g must be ≥ 0", cfg.LR0))
	}
	r := &Approx{cfg: cfg}
	if cfg.Estimator == Smoothed {
		r.alpha = cfg.LR0
	}
	return r
}

// Name describes the rule.
func (a *Approx) Name() string {
	pts := 3
	if a.cfg.FivePoint {
		pts = 5
	}
	est := ""
	if a.cfg.Estimator == Mean {
		est = "mean" + windowNote(a.cfg.FixedWindow) + ", "
	}
	watch := ""
	if a.cfg.Trend > 0 {
		watch = fmt.Sprintf(", trend %d", a.cfg.Trend)
		if a.cfg.TrendZ != DefaultTrendZ {
			watch += fmt.Sprintf(" at %gσ", a.cfg.TrendZ)
		}
	}
	return fmt.Sprintf("gen(%sΦ=%d, γ=%g, %d points%s%s%s)", est, a.cfg.Every, a.cfg.Gamma, pts, eagerSuffix(a.cfg.Eager, a.cfg.Every), watch, a.cfg.Horizon.suffix())
}

// fit is the outcome of one parabola fit along the line.
type fit struct {
	f0, fm, fp  float64 // g(0), g(a), g(−a)
	slope, curv float64 // the fitted −g'(0) and g″(0); NaN when not finite
	delta, r2   float64
	reason      Reason
}

// fitAt probes the line at distance a and fits the parabola.
func (r *Approx) fitAt(line Line, a float64) fit {
	nan := math.NaN()
	f := fit{f0: line.At(0), fm: line.At(a), fp: line.At(-a), slope: nan, curv: nan, delta: nan, r2: nan}
	if !r.cfg.FivePoint {
		curv := f.fp - 2*f.f0 + f.fm
		if finite(f.f0, f.fm, f.fp) {
			f.slope, f.curv = (f.fp-f.fm)/(2*a), curv/(a*a)
		}
		switch {
		case !finite(f.f0, f.fm, f.fp, f.slope, f.curv):
			f.reason = NonFinite
		case !(curv > 0) || flat(f.f0, f.fm, f.fp): // a flat line has no curvature to fit
			f.reason = NonConvex
		case !(f.fp > f.fm):
			f.reason = NonDescent
		default:
			f.delta = a / 2 * (f.fp - f.fm) / curv
		}
		if f.reason == OK && !finite(f.delta) { // a tiny curvature overflows Δ
			f.reason, f.delta = NonFinite, nan
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
	f.slope, f.curv = -c1/a, 2*c2/(a*a)
	switch {
	case !finite(f.slope, f.curv):
		f.reason = NonFinite
	case !(c2 > 0) || flat(gs[:]...): // equal losses: c2 is rounding noise
		f.reason = NonConvex
	case !(c1 < 0):
		f.reason = NonDescent
	default:
		f.delta = -c1 * a / (2 * c2)
	}
	if f.reason == OK && !finite(f.delta) {
		f.reason, f.delta = NonFinite, math.NaN()
	}
	return f
}

// Next implements Rule.
func (r *Approx) Next(step int, line Line) Decision {
	if d, ok := r.Ahead(step); ok {
		return d
	}
	d := newDecision(0)
	d.Updated = true
	var f fit
	var a float64
	reason := OK
	switch {
	case r.alpha == 0:
		f, a = r.start(line)
		reason = f.reason
		if !f.reason.Failed() {
			r.alpha, r.estimated = r.cfg.clamp(f.delta), true
			r.recall.add(f.delta)
			r.m = moments{}
			r.m.add(f.slope, f.curv, probeGamma(r.cfg.Gamma, step, r.cfg.Every, r.cfg.Eager, r.cfg.FixedWindow))
		} else {
			r.alpha, r.estimated = r.cfg.onFailure(0, f.reason, r.cfg.Gamma), false
		}
	case r.cfg.Estimator == Mean:
		a = r.cfg.ProbeFactor * r.alpha
		f = r.fitAt(line, a)
		if finite(f.slope, f.curv) {
			r.m.add(f.slope, f.curv, probeGamma(r.cfg.Gamma, step, r.cfg.Every, r.cfg.Eager, r.cfg.FixedWindow))
		}
		est, why := r.m.rate()
		if f.reason == NonFinite { // a probe that blew up says the step is too long, whatever the averages say
			why = NonFinite
		}
		if r.rising(step, f.f0) && !why.Failed() {
			why = Rising
		}
		reason = why
		if why.Failed() {
			r.fail(why)
		} else {
			r.recall.add(est)
			r.alpha, r.estimated = r.cfg.clamp(r.clip(est)), true
		}
	default:
		a = r.cfg.ProbeFactor * r.alpha
		f = r.fitAt(line, a)
		reason = f.reason
		if r.rising(step, f.f0) && !reason.Failed() {
			reason = Rising
		}
		if reason.Failed() {
			r.fail(reason)
		} else {
			r.recall.add(f.delta)
			r.alpha = r.cfg.clamp(r.cfg.Gamma*r.alpha + (1-r.cfg.Gamma)*r.clip(f.delta))
			r.estimated = true
		}
	}
	d.Reason, d.Estimate, d.R2, d.Estimated = reason, f.delta, f.r2, r.estimated
	d.Loss0, d.LossMinus, d.LossPlus, d.Probe = f.f0, f.fm, f.fp, a
	d.Slope = f.slope
	if r.cfg.Estimator == Mean {
		d.Curvature = f.curv
	}
	d.LR = r.cfg.clamp(r.alpha * r.cfg.Horizon.Factor(step))
	return d
}

// fail applies the failure policy after a probe whose estimate cannot be
// used. Under Recall, once an estimate has been accepted, the rate becomes
// the geometric mean of the accepted ones: it still comes from the run's
// probes.
func (r *Approx) fail(why Reason) {
	if g, ok := r.recall.rate(); ok && r.cfg.Policy == Recall {
		r.alpha, r.estimated = r.cfg.clamp(g), true
		return
	}
	r.alpha, r.estimated = r.cfg.failRate(r.alpha, r.estimated, why, r.cfg.Gamma)
}

// rising records the probe's loss at θ and reports whether the last Trend
// of them rose significantly (see ApproxConfig.Trend); a rise empties the
// record, so that the next verdict rests on new probes only.
func (r *Approx) rising(step int, f0 float64) bool {
	if r.cfg.Trend <= 0 || !finite(f0) {
		return false
	}
	r.trend.add(float64(step), f0, r.cfg.Trend)
	if len(r.trend.y) < r.cfg.Trend || !r.trend.rising(r.cfg.TrendZ) {
		return false
	}
	r.trend = trend{}
	return true
}

// Memory implements Averaging: Φ/(1−γ) steps.
func (r *Approx) Memory() int { return memory(r.cfg.Every, r.cfg.Gamma) }

// Ahead implements Foresight: a lazy step keeps the last rate.
func (r *Approx) Ahead(step int) (Decision, bool) {
	return r.cfg.keepRate(step, lazy(step, r.cfg.Every, r.cfg.Eager), r.alpha, r.estimated)
}

// clip bounds a new estimate to [α/MaxChange, MaxChange·α] when MaxChange > 1.
func (r *Approx) clip(est float64) float64 {
	if m := r.cfg.MaxChange; m > 1 && r.alpha > 0 {
		return min(max(est, r.alpha/m), m*r.alpha)
	}
	return est
}

// maxRefine bounds the re-probes of the automatic start.
const maxRefine = 8

// start brackets the probe size from StartLR (with the Mean estimator: from
// LR0 when it is set): a, 10a, a/10, 100a, a/100, … until the fit is convex
// and descending, at most MaxBracket fits. It then re-probes at a = √(a·Δ)
// until Δ lies within a factor 2 of the probe size (at most maxRefine
// times): the
// parabola is then fitted where the step lands, and the result no longer
// depends on where the bracket began. If a re-probe fails — the line is not
// convex or not finite that far out — Δ is not trusted beyond the probed
// region: it is clipped to [a/10, a] of the last good fit.
func (r *Approx) start(line Line) (fit, float64) {
	base := r.cfg.StartLR
	if r.cfg.Estimator == Mean && r.cfg.LR0 > 0 {
		base = r.cfg.LR0
	}
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
	for range maxRefine {
		if f.reason.Failed() || (f.delta <= 2*a && f.delta >= a/2) {
			break
		}
		// The geometric mean of a and Δ: probing at Δ itself can jump
		// back and forth when the line's curvature grows with the probe
		// size; halfway in log scale converges.
		next := math.Sqrt(a * f.delta)
		g := r.fitAt(line, next)
		if g.reason.Failed() {
			f.delta = min(max(f.delta, a/10), a) // never beyond a probe that was seen finite and convex
			break
		}
		f, a = g, next
	}
	return f, a
}

// State implements Rule.
func (r *Approx) State() State {
	v := map[string]float64{"alpha": r.alpha, "estimated": b2f(r.estimated)}
	if r.cfg.Estimator == Mean {
		r.m.values(v)
	}
	if r.cfg.Policy == Recall {
		r.recall.values(v)
	}
	if r.cfg.Trend > 0 {
		r.trend.values(v)
	}
	return State{Kind: "gen", Values: v}
}

// SetState implements Rule.
func (r *Approx) SetState(s State) error {
	if err := checkKind(s, "gen"); err != nil {
		return err
	}
	var l logMean
	if r.cfg.Policy == Recall {
		if err := l.setValues(s); err != nil {
			return err
		}
	}
	var tr trend
	if r.cfg.Trend > 0 {
		if err := tr.setValues(s, r.cfg.Trend); err != nil {
			return err
		}
	}
	if err := loadRate(s, r.cfg.Estimator, &r.alpha, &r.estimated, &r.m); err != nil {
		return err
	}
	r.recall, r.trend = l, tr
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
