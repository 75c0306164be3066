package gen

import (
	"fmt"
	"math"
)

// Estimator is how a GeN rule turns the noisy probes of successive steps
// into one learning rate.
//
// Each probe measures, on its own batch, the slope s = ∇f·u = −g'(0) and the
// curvature c = uᵀHu = g″(0) of the loss along the line (exactly, by a jet,
// or by the three-point differences s = (f₊ − f₋)/(2a), c = (f₊ − 2f₀ +
// f₋)/a²). On a fresh batch both are noisy, and s often changes sign.
type Estimator int

const (
	// Smoothed averages the per-probe minimizers, as the source text does
	// (Bu & Xu, arXiv:2407.02772, Algorithm 1):
	//
	//	α_t = γ·α_{t−1} + (1−γ)·s_t/c_t,
	//
	// and hands every probe that is not convex and descending to the
	// failure policy. The ratio s_t/c_t of one noisy probe is a poor
	// estimate: a probe with s_t ≤ 0 (common on a fresh batch) carries no
	// rate at all, and a small c_t makes the ratio explode.
	Smoothed Estimator = iota
	// Mean takes the ratio of separately averaged slope and curvature,
	//
	//	S_t = γ·S_{t−1} + (1−γ)·s_t,  C_t = γ·C_{t−1} + (1−γ)·c_t,
	//	α_t = S_t / C_t,
	//
	// the minimizer of the quadratic model of the expected loss along the
	// line, E[g(α)] ≈ f − α·E[s] + ½α²·E[c]. Every probe contributes,
	// including those whose own fit is not descending or not convex: a
	// non-descent probe lowers S instead of resetting the rate. The
	// averages start from zero; their bias (the factor 1 − γᵗ, as in Adam;
	// Kingma & Ba, 2015) is the same in S and C and cancels in the ratio,
	// so the first probe's α is s₁/c₁ exactly. γ is the shortest window:
	// unless the rule's FixedWindow is set, γₜ = max(γ, 1 − 1/n) for the
	// n-th probe, so that the averages reach back over the whole run once it
	// is longer than 1/(1−γ) probes (ApproxConfig.FixedWindow says why).
	// While S ≤ 0 or C ≤ 0 the
	// averages carry no rate and the failure policy decides (Keep keeps the
	// last estimated rate). Moving averages of gradient and curvature
	// statistics setting the rate follow vSGD (Schaul, Zhang & LeCun,
	// "No More Pesky Learning Rates", ICML 2013); averaging the line's
	// measurements over batches, not the rates, follows LABPAL (Mutschler,
	// Laube & Zell, 2021).
	Mean
)

var estimatorNames = [...]string{"smoothed", "mean"}

// String returns "smoothed" or "mean".
func (e Estimator) String() string {
	if e < 0 || int(e) >= len(estimatorNames) {
		return fmt.Sprintf("Estimator(%d)", int(e))
	}
	return estimatorNames[e]
}

// ParseEstimator parses an Estimator name.
func ParseEstimator(s string) (Estimator, error) {
	for i, n := range estimatorNames {
		if s == n {
			return Estimator(i), nil
		}
	}
	return 0, fmt.Errorf("unknown estimator %q; valid: smoothed, mean", s)
}

// moments are the exponentially weighted means of the slope and the
// curvature along the line, and the total weight w = 1 − γⁿ of n samples
// (the bias of averages that start at zero).
type moments struct {
	s, c, w float64
}

// add averages in one probe's slope s and curvature c.
func (m *moments) add(s, c, gamma float64) {
	m.s = gamma*m.s + (1-gamma)*s
	m.c = gamma*m.c + (1-gamma)*c
	m.w = gamma*m.w + (1 - gamma)
}

// mean returns the bias-corrected averages S/w and C/w.
func (m moments) mean() (s, c float64) {
	if m.w == 0 {
		return math.NaN(), math.NaN()
	}
	return m.s / m.w, m.c / m.w
}

// rate returns S/C and why it cannot be used: NonConvex when C ≤ 0,
// NonDescent when S ≤ 0, NonFinite when the ratio overflows or no sample
// was taken. The bias correction cancels in the ratio.
func (m moments) rate() (float64, Reason) {
	switch {
	case m.w == 0 || !finite(m.s, m.c):
		return math.NaN(), NonFinite
	case !(m.c > 0):
		return math.NaN(), NonConvex
	case !(m.s > 0):
		return math.NaN(), NonDescent
	}
	a := m.s / m.c
	if !finite(a) {
		return math.NaN(), NonFinite
	}
	return a, OK
}

// values and setValues put the averages into a rule's State.
func (m moments) values(v map[string]float64) {
	v["mean_slope"], v["mean_curvature"], v["mean_weight"] = m.s, m.c, m.w
}

func (m *moments) setValues(v map[string]float64) error {
	m.s, m.c, m.w = v["mean_slope"], v["mean_curvature"], v["mean_weight"]
	if !finite(m.s, m.c, m.w) || m.w < 0 || m.w > 1 {
		return fmt.Errorf("gen: state has invalid averages (slope %v, curvature %v, weight %v): the checkpoint is corrupted", m.s, m.c, m.w)
	}
	return nil
}

// loadRate restores the state shared by Approx and Exact: α (0 before the
// first update), whether it is an estimate, and the Mean estimator's
// averages. Nothing is changed when a value is missing or out of range.
func loadRate(s State, est Estimator, alpha *float64, estimated *bool, m *moments) error {
	a, err := s.Value("alpha", 0, math.MaxFloat64)
	if err != nil {
		return err
	}
	var mm moments
	if est == Mean {
		if err := mm.setValues(s.Values); err != nil {
			return err
		}
	}
	*alpha, *estimated, *m = a, s.Values["estimated"] == 1, mm
	return nil
}

// logMean is the geometric mean of a run's accepted estimates, the Recall
// policy's rate: Σ ln Δᵢ over n estimates.
type logMean struct {
	sum, n float64
}

// add records an accepted estimate; it ignores anything not positive and
// finite.
func (l *logMean) add(est float64) {
	if est > 0 && !math.IsInf(est, 1) {
		l.sum += math.Log(est)
		l.n++
	}
}

// rate returns exp(Σ ln Δᵢ / n), and false before the first estimate.
func (l logMean) rate() (float64, bool) {
	if l.n == 0 {
		return 0, false
	}
	return math.Exp(l.sum / l.n), true
}

// values writes the sums into a rule's state as "recall.sum" and
// "recall.n".
func (l logMean) values(v map[string]float64) {
	v["recall.sum"], v["recall.n"] = l.sum, l.n
}

// setValues reads what values wrote.
func (l *logMean) setValues(s State) error {
	n, err := s.Value("recall.n", 0, 1<<53)
	if err != nil {
		return err
	}
	sum, err := s.Value("recall.sum", -math.MaxFloat64, math.MaxFloat64)
	if err != nil {
		return err
	}
	*l = logMean{sum: sum, n: n}
	return nil
}

// trend holds the steps t and losses y of the last probes, oldest first,
// for ApproxConfig.Trend.
type trend struct {
	t, y []float64
}

// add appends a probe and keeps the last n.
func (w *trend) add(t, y float64, n int) {
	w.t, w.y = append(w.t, t), append(w.y, y)
	if k := len(w.y) - n; k > 0 {
		w.t, w.y = append(w.t[:0], w.t[k:]...), append(w.y[:0], w.y[k:]...)
	}
}

// rising reports whether the least-squares slope b of y against t is
// positive by more than z standard errors: with m points, residuals eᵢ
// and Sₜₜ = Σ(tᵢ − t̄)², se(b) = √(Σeᵢ²/(m−2) / Sₜₜ) (at z = 2, a one-sided
// test at about 2.3 % under a flat, noisy loss).
func (w trend) rising(z float64) bool {
	m := float64(len(w.y))
	if m < 3 {
		return false
	}
	var tm, ym float64
	for i := range w.y {
		tm += w.t[i]
		ym += w.y[i]
	}
	tm, ym = tm/m, ym/m
	var stt, sty float64
	for i := range w.y {
		stt += (w.t[i] - tm) * (w.t[i] - tm)
		sty += (w.t[i] - tm) * (w.y[i] - ym)
	}
	if stt == 0 {
		return false
	}
	b := sty / stt
	var sse float64
	for i := range w.y {
		e := w.y[i] - ym - b*(w.t[i]-tm)
		sse += e * e
	}
	return b > 0 && b*b*stt*(m-2) > z*z*sse
}

// values writes the record into a rule's state: "trend.n" and, for each
// probe i, "trend.t.i" and "trend.y.i".
func (w trend) values(v map[string]float64) {
	v["trend.n"] = float64(len(w.y))
	for i := range w.y {
		v[fmt.Sprintf("trend.t.%d", i)], v[fmt.Sprintf("trend.y.%d", i)] = w.t[i], w.y[i]
	}
}

// setValues reads what values wrote, at most n probes.
func (w *trend) setValues(s State, n int) error {
	k, err := s.Value("trend.n", 0, float64(n))
	if err != nil {
		return err
	}
	var r trend
	for i := range int(k) {
		t, err := s.Value(fmt.Sprintf("trend.t.%d", i), 0, math.MaxFloat64)
		if err != nil {
			return err
		}
		y, err := s.Value(fmt.Sprintf("trend.y.%d", i), -math.MaxFloat64, math.MaxFloat64)
		if err != nil {
			return err
		}
		r.add(t, y, n)
	}
	*w = r
	return nil
}

// flat reports whether the values are equal within float64 rounding: a line
// along which nothing can be fitted.
func flat(gs ...float64) bool {
	lo, hi, big := gs[0], gs[0], 0.0
	for _, g := range gs {
		lo, hi, big = min(lo, g), max(hi, g), max(big, math.Abs(g))
	}
	return hi-lo <= 16*0x1p-52*big
}

// memory is the averaging time, in steps, of a rate smoothed with γ and
// updated every Φ steps: Φ/(1−γ), rounded, at least 1.
func memory(every int, gamma float64) int {
	return max(int(math.Round(float64(every)/(1-gamma))), 1)
}

// lazy reports whether step keeps the last rate without probing: steps
// t ≥ eager with t mod every ≠ 0.
func lazy(step, every, eager int) bool {
	return step >= eager && step%every != 0
}

// keepRate is a lazy step's decision: the rate alpha kept from the last
// update, scaled by the horizon and bounded; false where the step is not
// lazy or no rate exists yet.
func (l Limits) keepRate(step int, isLazy bool, alpha float64, estimated bool) (Decision, bool) {
	if !isLazy || alpha <= 0 {
		return Decision{}, false
	}
	d := newDecision(l.clamp(alpha * l.Horizon.Factor(step)))
	d.Reason, d.Estimated = Lazy, estimated
	return d, true
}

// eagerSuffix names eager probing in a rule's name: ", eager N", or "" where
// it changes nothing (N = 0, or Φ = 1: every step is probed anyway).
func eagerSuffix(n, every int) string {
	if n <= 0 || every <= 1 {
		return ""
	}
	return fmt.Sprintf(", eager %d", n)
}

// windowNote names a fixed averaging window in a rule's name (the growing
// one is the default and goes unnamed).
func windowNote(fixed bool) string {
	if fixed {
		return " (fixed window)"
	}
	return ""
}

// probeGamma is the Mean estimator's γ for the probe of step t.
//
// The window: with fixed false it grows with the run, γₜ = max(γ, 1 − 1/n)
// with n = t/Φ + 1 the Φ-step probes to date, so that once the run is
// longer than 1/(1 − γ) probes, S and C are the plain means of every probe
// since the start. With fixed true, or γ = 0 (no smoothing), it is γ.
//
// The weight: an eager probe sets the rate of one step, not Φ, and enters
// with γₜ^(1/Φ): the averages remember as many steps however often they are
// fed, and the start's probes — large in slope and curvature while |u| is
// large — weigh no more than the Φ-spaced probes of the same steps would.
func probeGamma(gamma float64, step, every, eager int, fixed bool) float64 {
	if gamma == 0 {
		return 0
	}
	if !fixed {
		gamma = max(gamma, 1-1/(float64(step)/float64(every)+1))
	}
	if step < eager && every > 1 {
		return math.Pow(gamma, 1/float64(every))
	}
	return gamma
}
