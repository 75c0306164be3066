package gen

import (
	"fmt"
	"math"
	"strings"

	"github.com/genopt/gen/ad"
)

// Line is the loss along the update direction u on a probe batch,
//
//	g(α) = f(θ − α·u),
//
// as a learning-rate rule sees it. Implementations evaluate it lazily: a
// rule that does not ask costs nothing. Values may be NaN or ±Inf; the rules
// handle that through their failure policy. Package probe implements Line
// for a model recorded on an ad.Tape.
type Line interface {
	// At returns g(α): one forward pass at θ − α·u, after which θ is
	// restored bit for bit. g(0) may be free (the training loss).
	At(alpha float64) float64
	// Jet returns g(0), g'(0) = −∇f·u and g″(0) = uᵀHu (or uᵀGu with
	// ad.GaussNewton), exactly, in one second-order forward sweep.
	Jet(c ad.Curvature) (g0, d1, d2 float64)
}

// Sloper is implemented by lines that give g(0) and g'(0) = −∇f·u more
// cheaply than Jet (for example from the training gradient, when the line is
// on the gradient's own batch). Rules that need only the slope use it.
type Sloper interface {
	Slope() (g0, d1 float64)
}

// Rule chooses the learning rate α of each step. The GeN rules look at the
// Line; the classical schedules ignore it.
type Rule interface {
	// Next returns the learning rate for step (0-based) and how it was
	// chosen. The returned Decision.LR is finite and positive.
	Next(step int, line Line) Decision
	// State returns everything needed to continue exactly after a restart.
	State() State
	// SetState restores a State returned by the same kind of rule.
	SetState(State) error
	// Name names the rule and its main settings, e.g. "gen(Φ=4, γ=0.9)".
	Name() string
}

// Foresight is implemented by rules that can tell, before the step's
// direction exists, that a step needs nothing from the line: Ahead(step)
// then returns what Next(step, line) would return for any line — one rate,
// GroupLR nil — and true.
// Neither Ahead nor Next changes the rule's state on such a step, so a
// caller may take Ahead's decision instead of calling Next. A schedule
// knows every step; GeN knows its lazy steps, the Φ − 1 of every Φ that
// keep the last rate. The trainer uses it to let the optimizer apply the
// step in the pass that computes it (optim.Updater) instead of writing the
// direction first.
type Foresight interface {
	Ahead(step int) (Decision, bool)
}

// State is a rule's state as named numbers: JSON-serializable, and exact,
// since encoding/json writes float64 values that read back bit for bit.
type State struct {
	Kind   string             `json:"kind"`
	Values map[string]float64 `json:"values"`
}

// Value returns the value name of s, which must be present, finite and
// within [lo, hi]; a value read from a checkpoint that is missing or out of
// range is an error naming the rule, the value and the valid range, not a
// rule quietly started from a wrong state.
func (s State) Value(name string, lo, hi float64) (float64, error) {
	v, ok := s.Values[name]
	if !ok {
		return 0, fmt.Errorf("gen: state of rule %q has no %q; the saved state is incomplete (rule.json of the checkpoint): restore it, or start a new run", s.Kind, name)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return 0, fmt.Errorf("gen: state of rule %q: %s = %g is outside [%g, %g]; the saved state is corrupted (rule.json of the checkpoint): restore it, or start a new run", s.Kind, name, v, lo, hi)
	}
	return v, nil
}

// WrapState is the state of a rule that wraps inner (Anneal, the trust
// test of package peer): kind "wrapper/" followed by the inner rule's kind,
// the inner rule's values prefixed "inner.", and the wrapper's own values.
func WrapState(wrapper string, inner State, own map[string]float64) State {
	v := make(map[string]float64, len(inner.Values)+len(own))
	for k, x := range own {
		v[k] = x
	}
	for k, x := range inner.Values {
		v["inner."+k] = x
	}
	return State{Kind: wrapper + "/" + inner.Kind, Values: v}
}

// Unwrap returns the inner rule's state from a state WrapState wrote for
// wrapper, and false when s is not such a state.
func (s State) Unwrap(wrapper string) (State, bool) {
	kind, ok := strings.CutPrefix(s.Kind, wrapper+"/")
	if !ok {
		return State{}, false
	}
	in := State{Kind: kind, Values: map[string]float64{}}
	for k, x := range s.Values {
		if name, ok := strings.CutPrefix(k, "inner."); ok {
			in.Values[name] = x
		}
	}
	return in, true
}

func checkKind(s State, kind string) error {
	if s.Kind != kind {
		return fmt.Errorf("gen: state is for rule %q, not %q: resume with the same --lr setting", s.Kind, kind)
	}
	return nil
}

// Reason says how a step's learning rate came about.
type Reason int

const (
	// OK: the estimate was accepted.
	OK Reason = iota
	// Lazy: no probe this step; the previous learning rate is kept (Φ > 1).
	Lazy
	// NonConvex: the curvature along u (or the fitted parabola) is ≤ 0.
	NonConvex
	// NonDescent: ∇f·u ≤ 0, or the fitted minimum lies behind θ: u does not
	// point downhill on the probe batch.
	NonDescent
	// NonFinite: a probed loss, slope or curvature is NaN or ±Inf.
	NonFinite
	// Scheduled: a classical schedule, which does not look at the line.
	Scheduled
	// Rising: the probe batches' losses at θ rose significantly over the
	// last probes (ApproxConfig.Trend): the rate is running away, whatever
	// each probe says on its own; the failure policy applies.
	Rising
)

var reasonNames = [...]string{"ok", "lazy", "non-convex", "non-descent", "non-finite", "scheduled", "rising"}

// String returns the reason's name as written in the metrics.
func (r Reason) String() string {
	if r < 0 || int(r) >= len(reasonNames) {
		return fmt.Sprintf("Reason(%d)", int(r))
	}
	return reasonNames[r]
}

// ParseReason returns the Reason named s (as String writes it).
func ParseReason(s string) (Reason, bool) {
	for i, n := range reasonNames {
		if s == n {
			return Reason(i), true
		}
	}
	return 0, false
}

// Failed reports whether the reason is a fallback.
func (r Reason) Failed() bool {
	return r == NonConvex || r == NonDescent || r == NonFinite || r == Rising
}

// Decision is a rule's answer for one step, with the numbers it saw.
// Quantities the rule did not compute are NaN.
type Decision struct {
	// LR is the learning rate to apply: finite, positive, within bounds.
	LR float64
	// GroupLR, when not nil, holds one rate per parameter group (Block):
	// group i moves by GroupLR[i]·uᵢ, and LR is their mean.
	GroupLR []float64
	// Updated is set when the rule probed the line this step.
	Updated bool
	// Estimated is set when LR comes from the line's measurements (this
	// step's or, on lazy steps and under the Keep policy, an earlier
	// step's), not from a fixed rate (the failure policy's fallback, the
	// start, a schedule).
	Estimated bool
	// Reason says whether the estimate was used or which fallback fired.
	Reason Reason
	// Estimate is the raw minimizer: α* = (∇f·u)/(uᵀHu) for Exact, Δ for
	// Approx, before smoothing, clipping, horizon and bounds.
	Estimate float64
	// Loss0 is g(0); LossMinus is g(a) = f(θ − a·u) and LossPlus is
	// g(−a) = f(θ + a·u) for Approx, with a = Probe.
	Loss0, LossMinus, LossPlus, Probe float64
	// Slope is ∇f·u = −g'(0); Curvature is uᵀHu (or uᵀGu) = g″(0): exact
	// for Exact, fitted for Approx (the curvature only with the Mean
	// estimator, which uses it).
	Slope, Curvature float64
	// R2 is the coefficient of determination of the 5-point fit.
	R2 float64
}

func newDecision(lr float64) Decision {
	n := math.NaN()
	return Decision{LR: lr, Estimate: n, Loss0: n, LossMinus: n, LossPlus: n, Probe: n, Slope: n, Curvature: n, R2: n}
}

// Policy is what a GeN rule does when an estimate cannot be used.
type Policy int

const (
	// Fallback uses the fixed small learning rate Failure.LR (the default).
	Fallback Policy = iota
	// Keep keeps the previous learning rate.
	Keep
	// Shrink halves the previous learning rate.
	Shrink
	// Project takes the minimizer of the probed parabola over α ≥ 0: a
	// convex fit whose minimum lies behind θ (non-descent) counts as the
	// estimate 0, so the smoothed rate becomes γ·α (halved when γ = 0); a
	// concave fit says nothing about the minimum and keeps α; a non-finite
	// probe, or a loss that rose over the trend watch's probes (Rising),
	// falls back.
	Project
	// Recall resets the rate to the geometric mean of every estimate the
	// run has accepted so far, exp(mean ln Δᵢ) (Approx only; before the
	// first accepted estimate it falls back like Fallback). Where Fallback
	// pulls a drifting smoothed rate back to a fixed number, Recall pulls it
	// back to the run's own typical estimate, so no fixed rate enters.
	Recall
)

var policyNames = [...]string{"fallback", "keep", "shrink", "project", "recall"}

// String returns "fallback", "keep", "shrink", "project" or "recall".
func (p Policy) String() string {
	if p < 0 || int(p) >= len(policyNames) {
		return fmt.Sprintf("Policy(%d)", int(p))
	}
	return policyNames[p]
}

// ParsePolicy parses a Policy name.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown failure policy %q; valid: fallback, keep, shrink, project, recall", s)
}

// Limits are the settings common to both GeN rules. The zero value means: no
// upper bound, the smallest positive lower bound, fallback learning rate
// 1e-3, no horizon factor.
type Limits struct {
	// LRMin and LRMax bound the learning rate. LRMin ≤ 0 means
	// MinPositiveLR; LRMax ≤ 0 means no upper bound.
	LRMin, LRMax float64
	// Policy is applied when an estimate cannot be used (default Fallback).
	Policy Policy
	// FallbackLR is the learning rate of the Fallback policy (default 1e-3,
	// clamped into the bounds).
	FallbackLR float64
	// Horizon multiplies the learning rate applied (default: constant 1).
	Horizon Horizon
}

// MinPositiveLR is the smallest learning rate a GeN rule returns: the
// result is always positive, so that no later probe has size zero.
const MinPositiveLR = 1e-12

func (l Limits) check(rule string) {
	if l.LRMax > 0 && l.LRMax <= l.LRMin {
		panic(fmt.Sprintf("gen: %s: LRMax %g ≤ LRMin %g", rule, l.LRMax, l.LRMin))
	}
	// LRMax = +Inf is "no bound", as LRMax ≤ 0 is; every other setting
	// must be finite so that the rate always is.
	if l.LRMin < 0 || !finite(l.LRMin, l.FallbackLR) || math.IsNaN(l.LRMax) || l.FallbackLR < 0 {
		panic(fmt.Sprintf("gen: %s: invalid limits %+v", rule, l))
	}
}

// clamp puts a finite α into [max(LRMin, MinPositiveLR), LRMax]; a
// non-finite α becomes the fallback learning rate.
func (l Limits) clamp(a float64) float64 {
	lo := max(l.LRMin, MinPositiveLR)
	if math.IsNaN(a) || math.IsInf(a, 0) {
		a = l.fallback()
	}
	a = max(a, lo)
	if l.LRMax > 0 {
		a = min(a, l.LRMax)
	}
	return a
}

func (l Limits) fallback() float64 {
	f := l.FallbackLR
	if f == 0 {
		f = 1e-3
	}
	f = max(f, l.LRMin, MinPositiveLR)
	if l.LRMax > 0 {
		f = min(f, l.LRMax)
	}
	return f
}

// onFailure returns the learning-rate estimate after a failed probe, given
// the previous one (0 when there is none), the reason and the smoothing γ.
func (l Limits) onFailure(prev float64, why Reason, gamma float64) float64 {
	switch {
	case l.Policy == Project && prev > 0 && why == NonDescent && gamma > 0:
		return l.clamp(gamma * prev)
	case l.Policy == Project && prev > 0 && why == NonDescent:
		return l.clamp(prev / 2)
	case l.Policy == Project && prev > 0 && why == NonConvex:
		return l.clamp(prev)
	case l.Policy == Keep && prev > 0:
		return l.clamp(prev)
	case l.Policy == Shrink && prev > 0:
		return l.clamp(prev / 2)
	}
	return l.fallback()
}

// failRate applies the policy to a rule's rate alpha after a failed update
// and says whether the result is still an estimate: a kept estimate is, and
// so is Project's γ·α after a non-descent probe (the estimate 0 averaged
// in); any other policy's rate is not.
func (l Limits) failRate(alpha float64, estimated bool, why Reason, gamma float64) (float64, bool) {
	next := l.onFailure(alpha, why, gamma)
	projected := l.Policy == Project && alpha > 0 && why == NonDescent // a concave fit keeps α itself
	return next, estimated && (next == alpha || projected)
}

// HorizonKind selects the shape of the horizon factor.
type HorizonKind int

const (
	// Constant: h(t) = 1.
	Constant HorizonKind = iota
	// LinearDecay: h(t) = 1 − t/T.
	LinearDecay
	// CosineDecay: h(t) = ½(1 + cos(π·t/T)).
	CosineDecay
	// Cooldown: h(t) = min(1, (1 − t/T)/0.2): the rate as estimated for
	// the first 80 % of the run, then a linear decay to 0 over the last
	// 20 % — the "warmup-stable-decay" shape, which matches a cosine
	// schedule's final loss with a constant rate until the cooldown (Hägele
	// et al., "Scaling Laws and Compute-Optimal Training Beyond Fixed
	// Training Durations", NeurIPS 2024; Hu et al., "MiniCPM", 2024). For a
	// GeN rule it leaves the rate's level to the estimate and anneals only
	// the last iterate (docs/results/gpt.md). A rule that keeps probing
	// through the cooldown partly undoes it — its estimates follow the
	// decayed rate — which Anneal avoids.
	Cooldown
	// SqrtCooldown: h(t) = 1 − √(1 − min(1, (1 − t/T)/0.2)): the same
	// stable stretch, then the "1 − sqrt" cooldown of Hägele et al., which
	// ended lower than the linear one in their runs.
	SqrtCooldown
)

// cooldownFraction is the share of the run over which Cooldown decays.
const cooldownFraction = 0.2

// Horizon is a factor h(t) ∈ [0, 1] multiplying the learning rate applied
// at step t of T: the authors' code scales its GeN estimate by such a
// schedule. The smoothed estimate itself is not scaled, so that the probe
// size keeps following the curvature. With Warmup W > 0 the factor is also
// multiplied by min(1, (t+1)/W), the linear warm-up of a schedule (Goyal et
// al., "Accurate, Large Minibatch SGD", 2017): GeN then measures the rate
// from the first step but applies it gradually.
type Horizon struct {
	Kind HorizonKind
	// Steps is T, the total number of steps (required for the decays).
	Steps int
	// Warmup is W, the steps of the linear warm-up (0: none).
	Warmup int
}

// Factor returns h(step).
func (h Horizon) Factor(step int) float64 {
	w := 1.0
	if h.Warmup > 0 {
		w = min(1, float64(step+1)/float64(h.Warmup))
	}
	if h.Kind == Constant {
		return w
	}
	if h.Steps <= 0 {
		panic(fmt.Sprintf("gen: Horizon %d needs Steps > 0", h.Kind))
	}
	x := min(float64(step)/float64(h.Steps), 1)
	switch h.Kind {
	case LinearDecay:
		return w * (1 - x)
	case Cooldown:
		return w * min(1, (1-x)/cooldownFraction)
	case SqrtCooldown:
		// From the integer T − t (cooldownLeft): (1 − x)/0.2 rounds to
		// just below 1 at its start, and the square root would turn that
		// ulp into 1.5e-8.
		return w * (1 - math.Sqrt(1-min(1, h.cooldownLeft(step))))
	}
	return w * 0.5 * (1 + math.Cos(math.Pi*x))
}

// cooldownLeft is the share of the cooldown still ahead at step t,
// (T − t)/(0.2·T), computed from the integer T − t; it is ≥ 1 before the
// cooldown begins.
func (h Horizon) cooldownLeft(step int) float64 {
	return float64(h.Steps-min(step, h.Steps)) / (cooldownFraction * float64(h.Steps))
}

// horizonNames are the horizons' names, by HorizonKind.
var horizonNames = [...]string{"none", "linear", "cosine", "cooldown", "sqrt-cooldown"}

// HorizonNames returns the names ParseHorizon accepts (besides "" and
// "constant", which mean "none").
func HorizonNames() []string { return horizonNames[:] }

// suffix names the horizon for a rule's Name: "" for none, else ", cooldown",
// ", sqrt cooldown", ", linear decay" or ", cosine decay", and ", warm-up W".
func (h Horizon) suffix() string {
	s := [...]string{"", ", linear decay", ", cosine decay", ", cooldown", ", sqrt cooldown"}[h.Kind]
	if h.Warmup > 0 {
		s += fmt.Sprintf(", warm-up %d", h.Warmup)
	}
	return s
}

// ParseHorizon parses "none", "linear", "cosine", "cooldown" or
// "sqrt-cooldown" ("" and "constant" also mean none); steps is T.
func ParseHorizon(s string, steps int) (Horizon, error) {
	if s == "" || s == "constant" {
		return Horizon{}, nil
	}
	for k, n := range horizonNames {
		if s == n {
			if HorizonKind(k) == Constant {
				return Horizon{}, nil
			}
			return Horizon{Kind: HorizonKind(k), Steps: steps}, nil
		}
	}
	return Horizon{}, fmt.Errorf("unknown horizon %q; valid: %s", s, strings.Join(horizonNames[:], ", "))
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
