package gen

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
)

// A constant line (all probed losses equal) has no curvature to fit: the
// 5-point fit must report a failure, not a rate made of rounding noise.
func TestFivePointConstantLineFails(t *testing.T) {
	for _, c := range []float64{1, 0.1, 6.321713314354974, 1.5789751661026552, 1e5} {
		line := &fakeLine{at: func(float64) float64 { return c }}
		d := NewApprox(ApproxConfig{Limits: Limits{Policy: Keep}, LR0: 0.1, Every: 1, FivePoint: true}).Next(0, line)
		if !d.Reason.Failed() || d.LR != 0.1 {
			t.Errorf("constant line g ≡ %v: %v with lr %v, want a failure that keeps 0.1", c, d.Reason, d.LR)
		}
	}
}

// An estimate that overflows (slope 1, curvature 5e-324: α* = +Inf) is a
// failure handled by the policy, never an accepted rate.
func TestOverflowingEstimateIsAFailure(t *testing.T) {
	tiny := 5e-324
	for _, pol := range []Policy{Keep, Fallback} {
		want := map[Policy]float64{Keep: 0.1, Fallback: 0.01}[pol]
		lim := Limits{Policy: pol, FallbackLR: 0.01, LRMax: 0.5}
		ex := NewExact(ExactConfig{Limits: lim})
		_ = ex.SetState(State{Kind: "gen-exact", Values: map[string]float64{"alpha": 0.1}})
		d := ex.Next(0, &fakeLine{g0: 1, d1: -1, d2: tiny})
		if d.Reason != NonFinite || d.LR != want {
			t.Errorf("exact, %s: %v with lr %v, want non-finite and %v", pol, d.Reason, d.LR, want)
		}
		// Approx: probed at a = 1e300, g(a) = 0.5, g(0) = 1, g(−a) = 1.5 + one
		// ulp: convex by one ulp and descending, so Δ = (a/2)·1/ulp overflows.
		ap := NewApprox(ApproxConfig{Limits: lim, LR0: 1e300, Every: 1, NoSmoothing: true})
		line := &fakeLine{at: func(a float64) float64 {
			switch {
			case a > 0:
				return 0.5
			case a < 0:
				return math.Nextafter(1.5, 2)
			}
			return 1
		}}
		want = map[Policy]float64{Keep: 0.5, Fallback: 0.01}[pol] // the kept 1e300, clamped to LRMax
		if d := ap.Next(0, line); d.Reason != NonFinite || d.LR != want {
			t.Errorf("approx, %s: %v with lr %v, want non-finite and %v", pol, d.Reason, d.LR, want)
		}
	}
}

// On a quadratic every probe measures the same slope and curvature along
// the line, so the Mean estimator's rate is the exact minimizer for any
// probe size and any γ.
func TestMeanIsExactOnQuadratic(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	q := newQuad(r, 5, 20)
	want := exactLineSearch(q)
	for _, gamma := range []float64{0.5, 0.9, 0.99} {
		rules := []Rule{
			NewApprox(ApproxConfig{Estimator: Mean, Gamma: gamma, Every: 1}),
			NewApprox(ApproxConfig{Estimator: Mean, Gamma: gamma, Every: 1, LR0: want * 1e4}),
			NewApprox(ApproxConfig{Estimator: Mean, Gamma: gamma, Every: 1, FivePoint: true}),
			NewExact(ExactConfig{Estimator: Mean, Gamma: gamma}),
		}
		for _, rule := range rules {
			for step := range 5 {
				d := rule.Next(step, q)
				if d.Reason != OK || !d.Estimated || numcheck.Rel(d.LR, want, 0) > 1e-9 {
					t.Fatalf("%s, γ %g, step %d: lr %v (%v, estimated %v), want %v", rule.Name(), gamma, step, d.LR, d.Reason, d.Estimated, want)
				}
			}
		}
	}
}

// seqLine is a line whose slope and curvature change from probe to probe:
// g(α) = 1 − s·α + ½·c·α² with the next (s, c) of a list, as noisy fresh
// batches give.
type seqLine struct {
	s, c []float64
	i    int
}

func (l *seqLine) At(a float64) float64 { return 1 - l.s[l.i]*a + 0.5*l.c[l.i]*a*a }
func (l *seqLine) Jet(ad.Curvature) (float64, float64, float64) {
	return 1, -l.s[l.i], l.c[l.i]
}

// With a fixed window the Mean estimator's rate is Σγ^(t−i)·s_i /
// Σγ^(t−i)·c_i, written out by hand here; a probe whose own slope is negative (non-descent on its batch)
// enters the average instead of resetting the rate to the fallback.
func TestMeanAveragesSlopeAndCurvature(t *testing.T) {
	s := []float64{2, 1, -0.5, 1.5, -1, 0.2}
	c := []float64{4, 3, 5, 2, 6, 4}
	gamma := 0.8
	for _, kind := range []string{"approx", "exact"} {
		lim := Limits{Policy: Fallback, FallbackLR: 1e-3}
		rule := Rule(NewExact(ExactConfig{Limits: lim, Estimator: Mean, Gamma: gamma, FixedWindow: true}))
		if kind == "approx" {
			// No clip: the averages alone decide (the first probe brackets).
			rule = NewApprox(ApproxConfig{Limits: lim, Estimator: Mean, Gamma: gamma, Every: 1, FixedWindow: true})
		}
		line := &seqLine{s: s, c: c}
		for step := range s {
			line.i = step
			d := rule.Next(step, line)
			var num, den float64
			for i := 0; i <= step; i++ {
				w := math.Pow(gamma, float64(step-i))
				num += w * s[i]
				den += w * c[i]
			}
			if d.Reason != OK || !d.Estimated || numcheck.Rel(d.LR, num/den, 0) > 1e-12 {
				t.Errorf("%s step %d: lr %v (%v), want Σw·s/Σw·c = %v", kind, step, d.LR, d.Reason, num/den)
			}
		}
	}
}

// While the averaged slope is ≤ 0 the averages carry no rate: the policy
// decides, and with Keep the rate is still the last estimate.
func TestMeanNonDescentAverageKeeps(t *testing.T) {
	line := &seqLine{s: []float64{1, -5, -5, 10}, c: []float64{2, 2, 2, 2}}
	rule := NewExact(ExactConfig{Limits: Limits{Policy: Keep}, Estimator: Mean, Gamma: 0.5, FixedWindow: true})
	want := []struct {
		lr  float64
		why Reason
	}{{0.5, OK}, {0.5, NonDescent}, {0.5, NonDescent}, {(0.125*1 - 0.25*5 - 0.5*5 + 10) / 2 / (0.125 + 0.25 + 0.5 + 1), OK}}
	for step, w := range want {
		line.i = step
		d := rule.Next(step, line)
		if d.Reason != w.why || !d.Estimated || numcheck.Rel(d.LR, w.lr, 0) > 1e-12 {
			t.Errorf("step %d: lr %v (%v, estimated %v), want %v (%v)", step, d.LR, d.Reason, d.Estimated, w.lr, w.why)
		}
	}
	// Fallback is reported as not estimated.
	fb := NewExact(ExactConfig{Limits: Limits{Policy: Fallback}, Estimator: Mean, Gamma: 0.5})
	line.i = 0
	fb.Next(0, line)
	line.i = 1
	if d := fb.Next(1, line); d.Estimated || d.LR != 1e-3 {
		t.Errorf("fallback after a non-descent average: lr %v, estimated %v; want 1e-3, not estimated", d.LR, d.Estimated)
	}
}

// The automatic start does not depend on where its bracket begins: on a
// line that is not quadratic (g = 1 − α + α² + 50α⁴, whose 3-point
// curvature grows with the probe size) starts from 1e-6 to 10 end within a
// few per cent of each other and of the true minimizer.
func TestStartIndependentOfStartSize(t *testing.T) {
	g := func(a float64) float64 { return 1 - a + a*a + 50*a*a*a*a }
	// The minimizer: g'(α) = −1 + 2α + 200α³ = 0, by bisection.
	lo, hi := 0.0, 0.5
	for range 200 {
		m := (lo + hi) / 2
		if -1+2*m+200*m*m*m > 0 {
			hi = m
		} else {
			lo = m
		}
	}
	var rates []float64
	for _, start := range []float64{1e-6, 1e-3, 0.1, 10} {
		for _, cfg := range []ApproxConfig{{StartLR: start}, {Estimator: Mean, LR0: start}} {
			cfg.Every = 1
			d := NewApprox(cfg).Next(0, &fakeLine{at: g})
			if d.Reason != OK {
				t.Fatalf("start %g: %v", start, d.Reason)
			}
			rates = append(rates, d.LR)
		}
	}
	for _, r := range rates {
		if numcheck.Rel(r, lo, 0) > 0.25 || numcheck.Rel(r, rates[0], 0) > 0.1 {
			t.Errorf("rates from starts 1e-6…10: %v; want all within 10 %% of each other and 25 %% of the minimizer %v", rates, lo)
			break
		}
	}
}

// The Mean estimator's averages survive a checkpoint: a restored rule
// continues exactly; corrupted values are refused.
func TestMeanStateRoundTrip(t *testing.T) {
	line := &seqLine{s: []float64{1, 2, -1, 3}, c: []float64{2, 1, 3, 2}}
	a := NewApprox(ApproxConfig{Estimator: Mean, Every: 1})
	b := NewApprox(ApproxConfig{Estimator: Mean, Every: 1})
	for i := range 3 {
		line.i = i
		a.Next(i, line)
	}
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	line.i = 3
	if x, y := a.Next(3, line), b.Next(3, line); x.LR != y.LR || x.Estimated != y.Estimated {
		t.Fatalf("restored rule gives %v, original %v", y, x)
	}
	for _, bad := range []map[string]float64{
		{"alpha": -1},
		{},
		{"alpha": math.Inf(1)},
		{"alpha": 0.1, "mean_slope": math.NaN(), "mean_curvature": 1, "mean_weight": 0.5},
		{"alpha": 0.1, "mean_slope": 1, "mean_curvature": 1, "mean_weight": 2},
	} {
		if err := b.SetState(State{Kind: "gen", Values: bad}); err == nil {
			t.Errorf("SetState accepted %v", bad)
		}
	}
}

// Eager probes every one of the first steps, then every Φ: the rules
// update on steps 0, 1, 2 and then 4, 8, … with Every 4 and Eager 3.
func TestEagerProbesTheFirstSteps(t *testing.T) {
	quad := func(a float64) float64 { return 1 - a + a*a } // minimizer 0.5
	want := []bool{true, true, true, false, true, false, false, false, true}
	rules := map[string]Rule{
		"approx": NewApprox(ApproxConfig{Estimator: Mean, Every: 4, Eager: 3}),
		"exact":  NewExact(ExactConfig{Estimator: Mean, Every: 4, Eager: 3}),
	}
	for name, r := range rules {
		for step, w := range want {
			line := &fakeLine{at: quad, g0: 1, d1: -1, d2: 2}
			d := r.Next(step, line)
			if d.Updated != w || (line.calls > 0) != w {
				t.Errorf("%s, step %d: updated %v after %d line calls, want updated %v", name, step, d.Updated, line.calls, w)
			}
		}
	}
}

// An eager probe sets the rate of one step, a Φ-spaced probe that of Φ: the
// Mean estimator weighs them so, with γ^(1/Φ) for the eager ones. The
// averages after eager probes at steps 0, 1, 2 and the regular probe at
// step 4 (Every 4, Eager 3, γ 0.9) are computed here by hand.
func TestEagerProbesWeighTheStepsTheyGovern(t *testing.T) {
	type sc struct{ s, c float64 }
	probes := map[int]sc{0: {1, 2}, 1: {3, 1}, 2: {2, 5}, 4: {4, 3}}
	ge := math.Pow(0.9, 0.25)
	var s, c, w float64
	for _, step := range []int{0, 1, 2} {
		p := probes[step]
		s, c, w = ge*s+(1-ge)*p.s, ge*c+(1-ge)*p.c, ge*w+(1-ge)
	}
	s, c, w = 0.9*s+0.1*probes[4].s, 0.9*c+0.1*probes[4].c, 0.9*w+0.1
	rules := map[string]Rule{
		"approx": NewApprox(ApproxConfig{Estimator: Mean, Every: 4, Eager: 3, Gamma: 0.9, LR0: 0.1}),
		"exact":  NewExact(ExactConfig{Estimator: Mean, Every: 4, Eager: 3, Gamma: 0.9}),
	}
	for name, r := range rules {
		var d Decision
		for step := range 5 {
			p := probes[step]
			if step == 3 {
				p = probes[2] // not probed: step 3 is lazy
			}
			quad := func(a float64) float64 { return 1 - a*p.s + a*a*p.c/2 }
			d = r.Next(step, &fakeLine{at: quad, g0: 1, d1: -p.s, d2: p.c})
		}
		v := r.State().Values
		got := []float64{v["mean_slope"], v["mean_curvature"], v["mean_weight"], d.LR}
		want := []float64{s, c, w, s / c}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Abs(want[i]) {
				t.Errorf("%s: slope, curvature, weight, rate %v, want %v", name, got, want)
				break
			}
		}
	}
}

// A growing window makes the averages means over the whole run: with γ ≈ 0
// (the window is "grown" from the second probe on) the rate after t probes
// is the plain mean of the slopes over the plain mean of the curvatures.
func TestGrowingWindowIsThePlainMean(t *testing.T) {
	s := []float64{2, 1, -0.5, 1.5, -1, 0.2, 3, 0.7}
	c := []float64{4, 3, 5, 2, 6, 4, 1, 2}
	rule := NewExact(ExactConfig{Limits: Limits{Policy: Keep}, Estimator: Mean, Gamma: 1e-12})
	line := &seqLine{s: s, c: c}
	var ss, cs float64
	for step := range s {
		line.i = step
		d := rule.Next(step, line)
		ss, cs = ss+s[step], cs+c[step]
		if numcheck.Rel(d.LR, ss/cs, 0) > 1e-9 {
			t.Errorf("step %d: lr %v, want Σs/Σc = %v", step, d.LR, ss/cs)
		}
	}
}

// At a noise floor every probe's slope is half the applied rate times its
// curvature (TestMeanAtStationarityIsHalfTheRate), so the rule's next rate
// is half an average of its past rates. With a fixed window that average is
// exponential and the rate falls geometrically, by (1+γ)/2 a probe; with the
// growing window it is the mean of all past rates, α_{t+1} = ½·mean(α_0…α_t),
// whose solution falls as t^(−1/2): α(4t)/α(t) → 1/2.
func TestWindowSetsTheDecayAtAFloor(t *testing.T) {
	const c = 3.0
	run := func(fixed bool, steps int) []float64 {
		rule := NewExact(ExactConfig{Limits: Limits{Policy: Keep}, Estimator: Mean, Gamma: 0.98, FixedWindow: fixed})
		lr := make([]float64, steps)
		applied := 1.0
		for step := range steps {
			d := rule.Next(step, &fakeLine{g0: 1, d1: -applied * c / 2, d2: c})
			lr[step], applied = d.LR, d.LR
		}
		return lr
	}
	fixed := run(true, 1100)
	if got, want := fixed[1099]/fixed[999], math.Pow(0.99, 100); numcheck.Rel(got, want, 0) > 1e-6 {
		t.Errorf("fixed window: α(1099)/α(999) = %v, want ((1+γ)/2)^100 = %v", got, want)
	}
	grow := run(false, 40_000)
	if got := grow[39_999] / grow[9_999]; math.Abs(got-0.5) > 0.005 {
		t.Errorf("growing window: α(39999)/α(9999) = %v, want 1/2 (decay as t^(−1/2))", got)
	}
}
