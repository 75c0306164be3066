package gen

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
)

// quadLine is the line of f(θ) = ½θᵀAθ − bᵀθ along u, in closed form: the
// oracle for the rules.
type quadLine struct {
	A        [][]float64
	b, th, u []float64
	forwards int
	jets     int
}

func (q *quadLine) f(th []float64) float64 {
	var s float64
	for i := range th {
		for j := range th {
			s += 0.5 * th[i] * q.A[i][j] * th[j]
		}
		s -= q.b[i] * th[i]
	}
	return s
}

func (q *quadLine) grad() []float64 {
	g := make([]float64, len(q.th))
	for i := range g {
		for j := range g {
			g[i] += q.A[i][j] * q.th[j]
		}
		g[i] -= q.b[i]
	}
	return g
}

func (q *quadLine) At(a float64) float64 {
	q.forwards++
	p := make([]float64, len(q.th))
	for i := range p {
		p[i] = q.th[i] - a*q.u[i]
	}
	return q.f(p)
}

func (q *quadLine) Jet(ad.Curvature) (g0, d1, d2 float64) {
	q.jets++
	g := q.grad()
	for i := range g {
		d1 -= g[i] * q.u[i]
		for j := range g {
			d2 += q.u[i] * q.A[i][j] * q.u[j]
		}
	}
	return q.f(q.th), d1, d2
}

// randomSPD returns Q·diag(λ)·Qᵀ with eigenvalues spread over [1, κ].
func randomSPD(r *rand.Rand, n int, kappa float64) [][]float64 {
	// Gram–Schmidt on a random matrix gives Q.
	q := make([][]float64, n)
	for i := range q {
		q[i] = make([]float64, n)
		for j := range q[i] {
			q[i][j] = r.NormFloat64()
		}
		for k := range i {
			var d float64
			for j := range n {
				d += q[i][j] * q[k][j]
			}
			for j := range n {
				q[i][j] -= d * q[k][j]
			}
		}
		var nrm float64
		for _, v := range q[i] {
			nrm += v * v
		}
		for j := range q[i] {
			q[i][j] /= math.Sqrt(nrm)
		}
	}
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n)
	}
	for k := range n {
		lam := 1 + (kappa-1)*float64(k)/float64(n-1)
		for i := range n {
			for j := range n {
				a[i][j] += q[k][i] * lam * q[k][j]
			}
		}
	}
	return a
}

func newQuad(r *rand.Rand, n int, kappa float64) *quadLine {
	q := &quadLine{A: randomSPD(r, n, kappa), b: make([]float64, n), th: make([]float64, n)}
	for i := range n {
		q.b[i], q.th[i] = r.NormFloat64(), r.NormFloat64()
	}
	q.u = q.grad()
	return q
}

// exactLineSearch is gᵀg / gᵀAg, the exact minimizer along −g on a quadratic.
func exactLineSearch(q *quadLine) float64 {
	g := q.grad()
	var gg, gag float64
	for i := range g {
		gg += g[i] * g[i]
		for j := range g {
			gag += g[i] * q.A[i][j] * g[j]
		}
	}
	return gg / gag
}

func TestExactOnQuadratic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	q := newQuad(r, 6, 20)
	want := exactLineSearch(q)
	d := NewExact(ExactConfig{}).Next(0, q)
	if numcheck.Rel(d.LR, want, 0) > 1e-12 || d.Reason != OK || !d.Updated {
		t.Fatalf("Exact on a quadratic: lr %v (%v), want gᵀg/gᵀAg = %v", d.LR, d.Reason, want)
	}
}

func TestApproxIsExactOnQuadraticForAnyProbe(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	q := newQuad(r, 5, 10)
	want := exactLineSearch(q)
	// The three-point formula is exact on a quadratic; what remains is the
	// rounding of f₊ − 2f₀ + f₋, about ε·|f|/(a²·gᵀAg) relative, ≤ 1e-7 for
	// the smallest probe size here: tolerance 1e-6.
	for _, a0 := range []float64{1e-4, 1e-2, 0.3, 5, 100} {
		rule := NewApprox(ApproxConfig{LR0: a0, NoSmoothing: true, Every: 1})
		d := rule.Next(0, q)
		if numcheck.Rel(d.Estimate, want, 0) > 1e-6 || numcheck.Rel(d.LR, want, 0) > 1e-6 {
			t.Errorf("probe size %g: Δ = %v, lr %v, want %v", a0, d.Estimate, d.LR, want)
		}
		five := NewApprox(ApproxConfig{LR0: a0, NoSmoothing: true, Every: 1, FivePoint: true})
		d = five.Next(0, q)
		if numcheck.Rel(d.LR, want, 0) > 1e-6 || math.Abs(d.R2-1) > 1e-9 {
			t.Errorf("5-point, probe size %g: lr %v R² %v, want %v and 1", a0, d.LR, d.R2, want)
		}
	}
}

// Gradient descent with exact line search on a quadratic contracts
// f − f* by at least ((κ−1)/(κ+1))² per step (Luenberger & Ye, "Linear and
// Nonlinear Programming", §8.2, steepest descent).
func TestExactMeetsSteepestDescentBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const kappa = 10.0
	q := newQuad(r, 8, kappa)
	// f* from the exact solution of Aθ = b by Gaussian elimination.
	fstar := q.f(solve(q.A, q.b))
	bound := math.Pow((kappa-1)/(kappa+1), 2)
	rule := NewExact(ExactConfig{})
	for step := range 15 {
		q.u = q.grad()
		before := q.f(q.th) - fstar
		d := rule.Next(step, q)
		for i := range q.th {
			q.th[i] -= d.LR * q.u[i]
		}
		after := q.f(q.th) - fstar
		if after > bound*before*(1+1e-9)+1e-15 {
			t.Fatalf("step %d: f − f* went %g → %g, ratio %g > bound %g", step, before, after, after/before, bound)
		}
	}
}

func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := range n {
		p := c
		for i := c + 1; i < n; i++ {
			if math.Abs(m[i][c]) > math.Abs(m[p][c]) {
				p = i
			}
		}
		m[c], m[p] = m[p], m[c]
		for i := c + 1; i < n; i++ {
			f := m[i][c] / m[c][c]
			for j := c; j <= n; j++ {
				m[i][j] -= f * m[c][j]
			}
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := m[i][n]
		for j := i + 1; j < n; j++ {
			s -= m[i][j] * x[j]
		}
		x[i] = s / m[i][i]
	}
	return x
}

// fakeLine returns fixed values: the probes a test wants the rules to see.
type fakeLine struct {
	at         func(a float64) float64
	g0, d1, d2 float64
	calls      int
}

func (f *fakeLine) At(a float64) float64 { f.calls++; return f.at(a) }
func (f *fakeLine) Jet(ad.Curvature) (float64, float64, float64) {
	f.calls++
	return f.g0, f.d1, f.d2
}

// parabola is the line g(a) = g0 − s·a + ½c·a², whose minimum lies at s/c.
func parabola(g0, s, c float64) *fakeLine {
	return &fakeLine{at: func(a float64) float64 { return g0 - s*a + c*a*a/2 }, g0: g0, d1: -s, d2: c}
}

// failingLines are three lines no rule can use: concave, uphill (its
// minimum behind θ) and NaN everywhere.
func failingLines() (concave, uphill, broken *fakeLine) {
	nan := math.NaN()
	return &fakeLine{at: func(a float64) float64 { return 1 - a*a }, g0: 1, d1: -1, d2: -2},
		&fakeLine{at: func(a float64) float64 { return 1 + a + a*a }, g0: 1, d1: 1, d2: 2},
		&fakeLine{at: func(a float64) float64 { return nan }, g0: nan, d1: -1, d2: 2}
}

func TestFallbackPaths(t *testing.T) {
	concave, uphill, broken := failingLines()
	cases := []struct {
		name string
		line *fakeLine
		want Reason
	}{{"concave", concave, NonConvex}, {"non-descent", uphill, NonDescent}, {"NaN loss", broken, NonFinite}}
	for _, c := range cases {
		for _, pol := range []Policy{Fallback, Keep, Shrink, Project} {
			lim := Limits{Policy: pol, FallbackLR: 0.01}
			rules := map[string]Rule{
				"exact":  NewExact(ExactConfig{Limits: lim}),
				"approx": NewApprox(ApproxConfig{Limits: lim, LR0: 0.1, Every: 1}),
			}
			for rn, rule := range rules {
				if rn == "exact" {
					// Give Exact a previous learning rate of 0.1 first.
					_ = rule.SetState(State{Kind: "gen-exact", Values: map[string]float64{"alpha": 0.1}})
				}
				d := rule.Next(0, c.line)
				want := map[Policy]float64{Fallback: 0.01, Keep: 0.1, Shrink: 0.05}[pol]
				if pol == Project {
					// Concave: keep; behind θ: the estimate 0 enters the
					// average (γ·α; halved for Exact's γ = 0); NaN: fall back.
					want = map[Reason]float64{NonConvex: 0.1, NonDescent: map[string]float64{"exact": 0.05, "approx": 0.09}[rn], NonFinite: 0.01}[c.want]
				}
				if d.Reason != c.want || numcheck.Rel(d.LR, want, 0) > 1e-15 {
					t.Errorf("%s, %s, %s: lr %v reason %v, want %v and %v", rn, c.name, pol, d.LR, d.Reason, want, c.want)
				}
			}
		}
	}
}

// TestProjectKeepsAnEstimate checks that Project's rate after a non-descent
// probe, γ·α with the estimate 0 averaged in, still counts as estimated,
// and that its fallback after a NaN probe does not.
func TestProjectKeepsAnEstimate(t *testing.T) {
	_, uphill, broken := failingLines()
	r := NewApprox(ApproxConfig{Limits: Limits{Policy: Project, FallbackLR: 0.01}, Estimator: Smoothed, LR0: 0.1, Every: 1})
	if d := r.Next(0, parabola(1, 0.4, 2)); d.Reason != OK || !d.Estimated {
		t.Fatalf("parabola: %v, estimated %v", d.Reason, d.Estimated)
	}
	if d := r.Next(1, uphill); d.Reason != NonDescent || !d.Estimated || numcheck.Rel(d.LR, 0.9*0.11, 0) > 1e-12 {
		t.Errorf("non-descent: lr %v (estimated %v), want γ·α = 0.099, estimated", d.LR, d.Estimated)
	}
	if d := r.Next(2, broken); d.Reason != NonFinite || d.Estimated || d.LR != 0.01 {
		t.Errorf("NaN: lr %v (estimated %v), want the fallback 0.01, not estimated", d.LR, d.Estimated)
	}
}

// TestRecallPolicy checks the Recall policy against a hand computation:
// before any estimate it falls back; after parabolas with minimizers 0.2
// and 0.05 every failed probe (non-descent, concave, NaN) sets the rate to
// their geometric mean √(0.2·0.05) = 0.1, as an estimate; the sums survive
// a state round trip, and other policies' states do not carry them.
func TestRecallPolicy(t *testing.T) {
	concave, uphill, broken := failingLines()
	cfg := ApproxConfig{Limits: Limits{Policy: Recall, FallbackLR: 0.01}, Estimator: Smoothed, LR0: 0.1, Every: 1}
	r := NewApprox(cfg)
	if d := r.Next(0, uphill); d.LR != 0.01 || d.Estimated {
		t.Fatalf("before any estimate: lr %v (estimated %v), want the fallback 0.01, not estimated", d.LR, d.Estimated)
	}
	for i, l := range []*fakeLine{parabola(1, 0.4, 2), parabola(1, 0.1, 2)} {
		if d := r.Next(1+i, l); d.Reason != OK || numcheck.Rel(d.Estimate, []float64{0.2, 0.05}[i], 0) > 1e-12 {
			t.Fatalf("parabola %d: reason %v, estimate %v", i, d.Reason, d.Estimate)
		}
	}
	st := r.State()
	for i, l := range []*fakeLine{uphill, concave, broken} {
		d := r.Next(3+i, l)
		if d.Reason == OK || numcheck.Rel(d.LR, 0.1, 0) > 1e-12 || !d.Estimated {
			t.Errorf("failure %d (%v): lr %v (estimated %v), want the geometric mean 0.1, estimated", i, d.Reason, d.LR, d.Estimated)
		}
	}
	back := NewApprox(cfg)
	if err := back.SetState(st); err != nil {
		t.Fatal(err)
	}
	if d := back.Next(3, uphill); numcheck.Rel(d.LR, 0.1, 0) > 1e-12 {
		t.Errorf("after a state round trip: lr %v, want 0.1", d.LR)
	}
	delete(st.Values, "recall.n")
	if err := NewApprox(cfg).SetState(st); err == nil {
		t.Error("a Recall state without recall.n was accepted")
	}
	cfg.Policy = Fallback
	if _, ok := NewApprox(cfg).State().Values["recall.n"]; ok {
		t.Error("a Fallback rule's state carries the Recall sums")
	}
}

// TestTrendTest checks the rise test against a hand computation: losses
// 1.0, 1.2, 1.1, 1.3 at steps 0–3 have slope 0.08 and t = 1.89 (no rise at
// two standard errors, a rise at 1.5); with 1.4 last, slope 0.11 and
// t = 2.12 (a rise at two, none at three).
func TestTrendTest(t *testing.T) {
	for _, c := range []struct {
		y    []float64
		z    float64
		want bool
	}{
		{[]float64{1.0, 1.2, 1.1, 1.3}, 2, false}, {[]float64{1.0, 1.2, 1.1, 1.3}, 1.5, true},
		{[]float64{1.0, 1.2, 1.1, 1.4}, 2, true}, {[]float64{1.0, 1.2, 1.1, 1.4}, 3, false},
		{[]float64{1.3, 1.1, 1.2, 1.0}, 2, false}, {[]float64{1.3, 1.1, 1.2, 1.0}, 0.1, false},
	} {
		var w trend
		for i, y := range c.y {
			w.add(float64(i), y, 4)
		}
		if got := w.rising(c.z); got != c.want {
			t.Errorf("losses %v at %gσ: rising %v, want %v", c.y, c.z, got, c.want)
		}
	}
}

// TestTrendFailsARisingLoss feeds approximate GeN parabolas whose loss at θ
// rises by 0.1 per probe: with Trend 4 the fourth probe fails as Rising and
// takes the fallback rate, the watch starts afresh, and a restored state
// fails at the same probe; falling losses never fail.
func TestTrendFailsARisingLoss(t *testing.T) {
	at := func(g0 float64) *fakeLine { return parabola(g0, 0.4, 2) } // minimum at 0.2
	cfg := ApproxConfig{Limits: Limits{FallbackLR: 0.01}, Estimator: Smoothed, LR0: 0.1, Every: 1, Trend: 4}
	var reasons []Reason
	r := NewApprox(cfg)
	var st State
	for k := range 9 {
		if k == 3 {
			st = r.State()
		}
		d := r.Next(k, at(1+0.1*float64(k)))
		reasons = append(reasons, d.Reason)
		if d.Reason == Rising && d.LR != 0.01 {
			t.Errorf("probe %d: rising, but lr %v, want the fallback 0.01", k, d.LR)
		}
	}
	want := []Reason{OK, OK, OK, Rising, OK, OK, OK, Rising, OK}
	if !slices.Equal(reasons, want) {
		t.Errorf("reasons %v, want %v", reasons, want)
	}
	back := NewApprox(cfg)
	if err := back.SetState(st); err != nil {
		t.Fatal(err)
	}
	if d := back.Next(3, at(1.3)); d.Reason != Rising {
		t.Errorf("after a state round trip the fourth probe is %v, want rising", d.Reason)
	}
	r = NewApprox(cfg)
	for k := range 12 {
		if d := r.Next(k, at(2-0.1*float64(k))); d.Reason != OK {
			t.Fatalf("falling losses, probe %d: %v", k, d.Reason)
		}
	}
	if name := NewApprox(cfg).Name(); !strings.HasSuffix(name, "trend 4)") {
		t.Errorf("rule name %q does not show the watch (and no threshold at the default 2σ)", name)
	}
	cfg.TrendZ = 3
	if name := NewApprox(cfg).Name(); !strings.Contains(name, "trend 4 at 3σ") {
		t.Errorf("rule name %q does not show the watch's threshold", name)
	}
	cfg.Trend = 0
	if _, ok := NewApprox(cfg).State().Values["trend.n"]; ok {
		t.Error("a rule without the watch carries its record")
	}
}

// TestTrendZRejectsNonsense: a negative, NaN or infinite threshold panics
// (the command says so in words first); 0 means the default 2.
func TestTrendZRejectsNonsense(t *testing.T) {
	for _, z := range []float64{-1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TrendZ %v: no panic", z)
				}
			}()
			NewApprox(ApproxConfig{Trend: 4, TrendZ: z})
		}()
	}
	if r := NewApprox(ApproxConfig{Trend: 4}); r.cfg.TrendZ != 2 {
		t.Errorf("TrendZ 0 gives %v, want the default 2", r.cfg.TrendZ)
	}
}

func TestRateAlwaysFinitePositiveAndBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	lines := []*fakeLine{
		{at: func(a float64) float64 { return math.Inf(1) }, g0: math.Inf(1), d1: math.NaN(), d2: 0},
		{at: func(a float64) float64 { return 1 - 1e6*a + 1e-9*a*a }, g0: 1, d1: -1e6, d2: 1e-9}, // huge α*
		{at: func(a float64) float64 { return 1 - 1e-9*a + a*a }, g0: 1, d1: -1e-9, d2: 2},       // tiny α*
	}
	for _, lmin := range []float64{0, 1e-5} {
		for _, lmax := range []float64{0, 1} {
			lim := Limits{LRMin: lmin, LRMax: lmax}
			for _, rule := range []Rule{NewExact(ExactConfig{Limits: lim}), NewApprox(ApproxConfig{Limits: lim, Every: 1})} {
				for step := range 20 {
					d := rule.Next(step, lines[r.IntN(len(lines))])
					if !(d.LR > 0) || math.IsInf(d.LR, 0) || d.LR < lmin || (lmax > 0 && d.LR > lmax) {
						t.Fatalf("%s step %d with LRMin %g LRMax %g: lr %v", rule.Name(), step, lmin, lmax, d.LR)
					}
				}
			}
		}
	}
}

func TestLazyAndSmoothing(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	q := newQuad(r, 4, 5)
	want := exactLineSearch(q)
	rule := NewApprox(ApproxConfig{LR0: 0.01, Every: 4})
	d := rule.Next(0, q)
	if wantLR := 0.9*0.01 + 0.1*want; numcheck.Rel(d.LR, wantLR, 0) > 1e-6 {
		t.Fatalf("smoothed lr %v, want 0.9·0.01 + 0.1·Δ = %v", d.LR, wantLR)
	}
	if q.forwards != 3 {
		t.Fatalf("an update cost %d forward passes, want 3 (g(0), g(±a))", q.forwards)
	}
	for step := 1; step < 4; step++ {
		if e := rule.Next(step, q); e.Reason != Lazy || e.LR != d.LR {
			t.Fatalf("step %d: %v lr %v, want lazy %v", step, e.Reason, e.LR, d.LR)
		}
	}
	if q.forwards != 3 {
		t.Fatalf("lazy steps probed the line (%d forwards)", q.forwards)
	}
	// Exact with γ: first update unsmoothed, then blended.
	ex := NewExact(ExactConfig{Gamma: 0.5})
	if d := ex.Next(0, q); numcheck.Rel(d.LR, want, 0) > 1e-12 {
		t.Fatalf("Exact first update %v, want %v", d.LR, want)
	}
}

func TestMaxChangeAndHorizon(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	q := newQuad(r, 4, 5)
	want := exactLineSearch(q)
	a0 := want / 100
	rule := NewApprox(ApproxConfig{LR0: a0, NoSmoothing: true, Every: 1, MaxChange: 2})
	if d := rule.Next(0, q); numcheck.Rel(d.LR, 2*a0, 0) > 1e-12 {
		t.Fatalf("MaxChange 2: lr %v, want 2·α₀ = %v", d.LR, 2*a0)
	}
	h := Horizon{Kind: CosineDecay, Steps: 10}
	ex := NewExact(ExactConfig{Limits: Limits{Horizon: h}})
	if d := ex.Next(5, q); numcheck.Rel(d.LR, want*0.5, 0) > 1e-12 {
		t.Fatalf("cosine horizon at t = T/2: lr %v, want α*/2 = %v", d.LR, want/2)
	}
	if f := (Horizon{Kind: LinearDecay, Steps: 4}).Factor(1); f != 0.75 {
		t.Fatalf("linear horizon factor %v, want 0.75", f)
	}
	// Warm-up: (t+1)/W until W, times the decay (hand-computed values).
	for _, c := range []struct {
		h    Horizon
		step int
		want float64
	}{
		{Horizon{Warmup: 4}, 0, 0.25}, {Horizon{Warmup: 4}, 2, 0.75}, {Horizon{Warmup: 4}, 3, 1}, {Horizon{Warmup: 4}, 100, 1},
		{Horizon{Kind: LinearDecay, Steps: 10, Warmup: 4}, 1, 0.5 * 0.9}, {Horizon{Kind: CosineDecay, Steps: 10, Warmup: 2}, 5, 0.5},
		// Cooldown: 1 for the first 80 % of T = 100 steps, then (1 − t/T)/0.2.
		{Horizon{Kind: Cooldown, Steps: 100}, 0, 1}, {Horizon{Kind: Cooldown, Steps: 100}, 80, 1},
		{Horizon{Kind: Cooldown, Steps: 100}, 90, 0.5}, {Horizon{Kind: Cooldown, Steps: 100}, 95, 0.25},
		{Horizon{Kind: Cooldown, Steps: 100}, 100, 0}, {Horizon{Kind: Cooldown, Steps: 100, Warmup: 4}, 1, 0.5},
		// The 1 − sqrt cooldown: 1 − √((t − 0.8T)/0.2T) over the last 20 %.
		{Horizon{Kind: SqrtCooldown, Steps: 100}, 80, 1}, {Horizon{Kind: SqrtCooldown, Steps: 100}, 85, 0.5},
		{Horizon{Kind: SqrtCooldown, Steps: 100}, 95, 1 - math.Sqrt(0.75)}, {Horizon{Kind: SqrtCooldown, Steps: 100}, 100, 0},
	} {
		if f := c.h.Factor(c.step); math.Abs(f-c.want) > 1e-15 {
			t.Errorf("%+v at step %d: factor %v, want %v", c.h, c.step, f, c.want)
		}
	}
	// The warm-up scales the applied rate, not the estimate.
	ex = NewExact(ExactConfig{Limits: Limits{Horizon: Horizon{Warmup: 4}}})
	if d := ex.Next(0, q); numcheck.Rel(d.LR, want/4, 0) > 1e-12 || numcheck.Rel(d.Estimate, want, 0) > 1e-12 {
		t.Fatalf("warm-up 4 at step 0: lr %v (want α*/4 = %v), estimate %v (want α*)", d.LR, want/4, d.Estimate)
	}
}

func TestAutomaticStartBrackets(t *testing.T) {
	// Convex only for 1e-2 ≤ a: noise (non-convex) below, as float32 losses
	// are for tiny probes.
	calls := 0
	line := &fakeLine{at: func(a float64) float64 {
		calls++
		if math.Abs(a) < 5e-3 && a != 0 {
			return 1 - 1e-7 // flat on both sides of 0, so the fit is concave
		}
		return 1 - 2*a + 10*a*a // minimum at 0.1
	}}
	rule := NewApprox(ApproxConfig{Every: 1})
	d := rule.Next(0, line)
	if d.Reason != OK || numcheck.Rel(d.LR, 0.1, 0) > 1e-9 {
		t.Fatalf("automatic start: lr %v (%v), want 0.1", d.LR, d.Reason)
	}
	if calls > 3*9 {
		t.Fatalf("automatic start used %d forward passes", calls)
	}
	// Never convex: bounded work, then the fallback.
	calls = 0
	flat := &fakeLine{at: func(a float64) float64 { calls++; return 1 - a*a }}
	d = NewApprox(ApproxConfig{Every: 1, MaxBracket: 5}).Next(0, flat)
	if d.Reason != NonConvex || d.LR != 1e-3 || calls > 15 {
		t.Fatalf("never convex: lr %v (%v) after %d passes, want fallback 1e-3 within 15", d.LR, d.Reason, calls)
	}
}

func TestStateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	q := newQuad(r, 4, 5)
	a, b := NewApprox(ApproxConfig{LR0: 0.01, Every: 1}), NewApprox(ApproxConfig{LR0: 0.01, Every: 1})
	a.Next(0, q)
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	if x, y := a.Next(1, q), b.Next(1, q); x.LR != y.LR {
		t.Fatalf("restored rule gives %v, original %v", y.LR, x.LR)
	}
	if err := b.SetState(NewExact(ExactConfig{}).State()); err == nil {
		t.Fatal("SetState accepted an Exact state into Approx")
	}
}

func TestSchedules(t *testing.T) {
	cases := []struct {
		spec string
		t    int
		want float64
	}{
		{"const:0.1", 50, 0.1},
		{"linear:0.1", 25, 0.075},
		{"cosine:0.1", 50, 0.05},
		{"cosine:0.1:0.01", 50, 0.055},
		{"cosine:0.1:0.01", 100, 0.01},
		{"step:0.1", 34, 0.01},
	}
	for _, c := range cases {
		s, err := ParseSchedule(c.spec, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(c.t, nil).LR; numcheck.Rel(got, c.want, 0) > 1e-12 {
			t.Errorf("%s at step %d: %v, want %v", c.spec, c.t, got, c.want)
		}
	}
	w := &Schedule{Kind: ConstantLR, LR: 1, Warmup: 4}
	if got := w.At(1); got != 0.5 {
		t.Errorf("warm-up at step 1 of 4: %v, want 0.5", got)
	}
	for _, bad := range []string{"const", "cosine:-1", "exp:0.1", "const:abc", "cosine:0.1:0.2", "cosine:0.1:x", "const:0.1:0.01"} {
		if _, err := ParseSchedule(bad, 10); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

// The automatic start must not accept a far-off Δ that its confirming probe
// saw blow up: g is a gentle parabola for |α| ≤ 1 (minimum at 500) and +Inf
// beyond, so the re-probes towards 500 fail past 1 and the rate stays at
// the largest probe size seen finite.
func TestAutomaticStartDistrustsUnconfirmedEstimate(t *testing.T) {
	line := &fakeLine{at: func(a float64) float64 {
		if math.Abs(a) > 1 {
			return math.Inf(1)
		}
		return 1 - 1e-3*a + 1e-6*a*a
	}}
	d := NewApprox(ApproxConfig{Every: 1}).Next(0, line)
	if d.LR > 1 || !(d.LR > 1e-3) {
		t.Fatalf("automatic start accepted lr %v (%v) after seeing g = +Inf beyond 1; want within (1e-3, 1]", d.LR, d.Reason)
	}
}

// The 5-point fit's failure branches: concave and uphill lines.
func TestFivePointFailures(t *testing.T) {
	cases := []struct {
		g    func(float64) float64
		want Reason
	}{
		{func(a float64) float64 { return 1 - a*a }, NonConvex},
		{func(a float64) float64 { return 1 + a + a*a }, NonDescent},
		{func(a float64) float64 { return math.NaN() }, NonFinite},
	}
	for _, c := range cases {
		d := NewApprox(ApproxConfig{LR0: 0.1, Every: 1, FivePoint: true}).Next(0, &fakeLine{at: c.g})
		if d.Reason != c.want || d.LR != 1e-3 {
			t.Errorf("5-point fit: %v with lr %v, want %v and the fallback 1e-3", d.Reason, d.LR, c.want)
		}
	}
}
