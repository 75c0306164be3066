package peer

import (
	"math"
	"testing"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
)

// quadLine is the line of f(θ) = ½ Σ h_i θ_i² along u in float64:
// g(α) = f(θ − α·u), g'(0) = −Σ h_i θ_i u_i, g″(0) = Σ h_i u_i². It is
// exact, so it is the oracle's own arithmetic, not the code under test.
type quadLine struct {
	h, theta, u []float64
	forwards    int
}

func (q *quadLine) At(alpha float64) float64 {
	q.forwards++
	var f float64
	for i, h := range q.h {
		x := q.theta[i] - alpha*q.u[i]
		f += 0.5 * h * x * x
	}
	return f
}

func (q *quadLine) Jet(ad.Curvature) (g0, d1, d2 float64) {
	for i, h := range q.h {
		g0 += 0.5 * h * q.theta[i] * q.theta[i]
		d1 -= h * q.theta[i] * q.u[i]
		d2 += h * q.u[i] * q.u[i]
	}
	return g0, d1, d2
}

// Slope makes quadLine a gen.Sloper, as probe.Line is on the same batch.
func (q *quadLine) Slope() (g0, d1 float64) {
	g0, d1, _ = q.Jet(ad.Hessian)
	return g0, d1
}

// sgd sets u = ∇f = h⊙θ.
func (q *quadLine) sgd() {
	for i, h := range q.h {
		q.u[i] = h * q.theta[i]
	}
}

func (q *quadLine) apply(alpha float64) {
	for i := range q.theta {
		q.theta[i] -= alpha * q.u[i]
	}
}

func newQuad(h, theta []float64) *quadLine {
	return &quadLine{h: h, theta: append([]float64(nil), theta...), u: make([]float64, len(h))}
}

// tol is the relative tolerance between the rule and the hand trajectory:
// both evaluate the same float64 formulas in a different order, so they
// agree to a few ulps per step; 1e-12 leaves room for 20 steps.
const tol = 1e-12

func close(got, want float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// quadF is f(θ) = ½ Σ h_i θ_i², written out again for the hand trajectories.
func quadF(h, th []float64) float64 {
	var f float64
	for i := range h {
		f += 0.5 * h[i] * th[i] * th[i]
	}
	return f
}

func TestSPSFirstStepByHand(t *testing.T) {
	// f = ½(θ₁² + 4θ₂²) at θ = (1, 1): f = 2.5, ∇f = (1, 4), ‖∇f‖² = 17,
	// α = 2.5/(0.5·17) = 5/17 < cap 1.
	q := newQuad([]float64{1, 4}, []float64{1, 1})
	q.sgd()
	d := NewSPS(SPSConfig{}).Next(0, q)
	if !close(d.LR, 5.0/17) || d.Reason != gen.OK || !close(d.Slope, 17) || !close(d.Loss0, 2.5) {
		t.Errorf("SPS first step: got lr %v (reason %v, slope %v, loss %v), want 5/17 = %v, ok, 17, 2.5", d.LR, d.Reason, d.Slope, d.Loss0, 5.0/17)
	}
}

func TestSPSTrajectory(t *testing.T) {
	tests := []struct {
		name  string
		cfg   SPSConfig
		h, x0 []float64
	}{
		{"defaults", SPSConfig{}, []float64{1, 4, 0.25}, []float64{1, -1, 2}},
		{"capped", SPSConfig{C: 0.2, Max: 0.3}, []float64{1, 4, 0.25}, []float64{1, -1, 2}},
		{"fast growth", SPSConfig{C: 0.5, Init: 0.01, Growth: 4, Period: 2}, []float64{2, 1}, []float64{3, 1}},
		{"f* above", SPSConfig{FStar: 0.1}, []float64{1, 3}, []float64{0.5, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewSPS(tt.cfg).cfg // defaults filled in
			q := newQuad(tt.h, tt.x0)
			rule := NewSPS(tt.cfg)
			// The hand trajectory: Loizou et al. eq. (4) with the cap
			// γ_t = Growth^{1/Period}·γ_{t−1}, written from the paper.
			th := append([]float64(nil), tt.x0...)
			prev := 0.0
			for step := range 20 {
				var gg float64
				for i := range th {
					gg += tt.h[i] * th[i] * tt.h[i] * th[i]
				}
				capv := cfg.Init
				if prev > 0 {
					capv = prev * math.Pow(cfg.Growth, 1/float64(cfg.Period))
				}
				if cfg.Max > 0 && capv > cfg.Max {
					capv = cfg.Max
				}
				want := math.Max(quadF(tt.h, th)-cfg.FStar, 0) / (cfg.C * gg)
				if want > capv {
					want = capv
				}
				want = math.Max(want, gen.MinPositiveLR)
				prev = want
				for i := range th {
					th[i] -= want * tt.h[i] * th[i]
				}

				q.sgd()
				d := rule.Next(step, q)
				q.apply(d.LR)
				if !close(d.LR, want) {
					t.Fatalf("step %d: got α %v, want %v", step, d.LR, want)
				}
			}
		})
	}
}

func TestSLSTrajectory(t *testing.T) {
	tests := []struct {
		name  string
		cfg   SLSConfig
		h, x0 []float64
	}{
		{"defaults", SLSConfig{}, []float64{1, 4, 0.25}, []float64{1, -1, 2}},
		{"steep", SLSConfig{}, []float64{10, 40}, []float64{1, 1}},
		{"strict", SLSConfig{C: 0.5, Beta: 0.5, Init: 3, Growth: 2, Period: 1}, []float64{1, 2}, []float64{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewSLS(tt.cfg).cfg
			q := newQuad(tt.h, tt.x0)
			rule := NewSLS(tt.cfg)
			// The hand trajectory: Vaswani et al. Algorithm 1 (Armijo,
			// reset option 1), written from the paper.
			th := append([]float64(nil), tt.x0...)
			prev := 0.0
			trials := 0
			for step := range 15 {
				g := make([]float64, len(th))
				var gg float64
				for i := range th {
					g[i] = tt.h[i] * th[i]
					gg += g[i] * g[i]
				}
				f := quadF(tt.h, th)
				eta := cfg.Init
				if prev > 0 {
					eta = prev * math.Pow(cfg.Growth, 1/float64(cfg.Period))
				}
				for {
					trials++
					trial := make([]float64, len(th))
					for i := range th {
						trial[i] = th[i] - eta*g[i]
					}
					if quadF(tt.h, trial) <= f-cfg.C*eta*gg {
						break
					}
					eta *= cfg.Beta
				}
				prev = eta
				for i := range th {
					th[i] -= eta * g[i]
				}

				q.sgd()
				d := rule.Next(step, q)
				q.apply(d.LR)
				if !close(d.LR, eta) || d.Reason != gen.OK {
					t.Fatalf("step %d: got α %v (%v), want %v", step, d.LR, d.Reason, eta)
				}
			}
			if rule.Trials != trials || q.forwards != trials {
				t.Errorf("got %d trials (%d forwards), want %d", rule.Trials, q.forwards, trials)
			}
		})
	}
}

func TestSLSAcceptsArmijoOnly(t *testing.T) {
	// f = ½·100θ² at θ = 1, u = ∇f = 100: the Armijo condition with c = 0.1
	// holds iff η ≤ 2(1 − c)/100 = 0.018. From η = 1 the search must stop at
	// the first 0.9^k ≤ 0.018, k = 39 (0.9^38 = 0.0182, 0.9^39 = 0.0164).
	q := newQuad([]float64{100}, []float64{1})
	q.sgd()
	d := NewSLS(SLSConfig{}).Next(0, q)
	if want := math.Pow(0.9, 39); !close(d.LR, want) || q.forwards != 40 {
		t.Errorf("got α %v after %d trials, want 0.9^39 = %v after 40", d.LR, q.forwards, want)
	}
}

func TestPeerFallbacks(t *testing.T) {
	up := newQuad([]float64{1}, []float64{1})
	up.u[0] = -1 // ∇f·u < 0: u points uphill
	nan := newQuad([]float64{1}, []float64{math.NaN()})
	nan.u[0] = 1
	for _, r := range []gen.Rule{NewSPS(SPSConfig{}), NewSLS(SLSConfig{})} {
		if d := r.Next(0, up); d.Reason != gen.NonDescent || !(d.LR > 0) {
			t.Errorf("%s uphill: got %v %v, want non-descent with a positive lr", r.Name(), d.Reason, d.LR)
		}
		if d := r.Next(1, nan); d.Reason != gen.NonFinite || !(d.LR > 0) || math.IsInf(d.LR, 0) {
			t.Errorf("%s NaN: got %v %v, want non-finite with a finite positive lr", r.Name(), d.Reason, d.LR)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	mk := []func() gen.Rule{
		func() gen.Rule { return NewSPS(SPSConfig{}) },
		func() gen.Rule { return NewSLS(SLSConfig{}) },
		func() gen.Rule { return NewTrust(gen.NewExact(gen.ExactConfig{}), TrustConfig{MaxScale: 2}) },
		func() gen.Rule { return NewTrust(gen.NewApprox(gen.ApproxConfig{}), TrustConfig{}) },
	}
	for _, m := range mk {
		a := m()
		qa := newQuad([]float64{1, 4, 9}, []float64{1, 1, 1})
		for step := range 5 {
			qa.sgd()
			qa.apply(a.Next(step, qa).LR)
		}
		b := m()
		if err := b.SetState(a.State()); err != nil {
			t.Fatal(err)
		}
		qb := newQuad(qa.h, qa.theta)
		for step := 5; step < 10; step++ {
			qa.sgd()
			qb.sgd()
			da, db := a.Next(step, qa), b.Next(step, qb)
			if da.LR != db.LR {
				t.Fatalf("%s step %d: restored rule gives %v, original %v", a.Name(), step, db.LR, da.LR)
			}
			qa.apply(da.LR)
			qb.apply(db.LR)
		}
		if err := b.SetState(gen.State{Kind: "other"}); err == nil {
			t.Errorf("%s accepted another rule's state", a.Name())
		}
	}
}

// fixed is an inner rule that always proposes one step with a given model.
type fixed struct{ lr, slope, curv float64 }

func (f fixed) Next(int, gen.Line) gen.Decision {
	d := decision()
	d.LR, d.Updated, d.Reason, d.Slope, d.Curvature, d.Loss0 = f.lr, true, gen.OK, f.slope, f.curv, math.NaN()
	return d
}
func (fixed) State() gen.State         { return gen.State{Kind: "fixed"} }
func (fixed) SetState(gen.State) error { return nil }
func (fixed) Name() string             { return "fixed" }

// quartic is g(α) = (α − 1)⁴ + α: not quadratic, g(0) = 1.
type quartic struct{}

func (quartic) At(a float64) float64 { return math.Pow(a-1, 4) + a }
func (quartic) Jet(ad.Curvature) (float64, float64, float64) {
	return 1, -3, 12
}

func TestTrustRatio(t *testing.T) {
	t.Run("quadratic line keeps κ", func(t *testing.T) {
		// On a quadratic line the model is exact: ρ = 1, κ stays at 1 and
		// the rule applies exact GeN's α* unchanged.
		q := newQuad([]float64{1, 4}, []float64{1, 1})
		tr := NewTrust(gen.NewExact(gen.ExactConfig{}), TrustConfig{})
		q.sgd()
		_, d1, d2 := q.Jet(ad.Hessian)
		if d := tr.Next(0, q); !close(d.LR, -d1/d2) || tr.Scale() != 1 || tr.Checks != 1 {
			t.Errorf("got α %v, κ %v, %d checks; want α* = %v, κ 1, 1 check", d.LR, tr.Scale(), tr.Checks, -d1/d2)
		}
	})
	t.Run("overshoot shrinks κ", func(t *testing.T) {
		// g = (α−1)⁴ + α: s = 3, c = 12, the model's α* = 0.25 predicts a
		// decrease 3·α − 6α². Proposing α = 1 (κ 1): predicted −3 ≤ 0 →
		// shrink to 0.5; at α = 0.5: g = 0.5625, decrease 0.4375 against
		// predicted 0, again shrink; at 0.25: g = 0.5664, decrease 0.4336,
		// predicted 0.375, ρ = 1.156 > 0.75 → grow ×1.5 to 0.375.
		tr := NewTrust(fixed{lr: 1, slope: 3, curv: 12}, TrustConfig{})
		want := []struct{ lr, kappa float64 }{{1, 0.5}, {0.5, 0.25}, {0.25, 0.375}}
		for i, w := range want {
			d := tr.Next(i, quartic{})
			if !close(d.LR, w.lr) || !close(tr.Scale(), w.kappa) {
				t.Fatalf("step %d: got α %v, κ %v; want %v, %v", i, d.LR, tr.Scale(), w.lr, w.kappa)
			}
		}
	})
	t.Run("growth bounded", func(t *testing.T) {
		q := newQuad([]float64{1}, []float64{1})
		q.sgd() // g(α) = ½(1 − α)²: s = 1, c = 1, as fixed says
		tr := NewTrust(fixed{lr: 0.1, slope: 1, curv: 1}, TrustConfig{MaxScale: 2})
		for i := range 10 {
			tr.Next(i, q)
		}
		if tr.Scale() != 2 {
			t.Errorf("got κ %v after 10 good steps, want the bound 2", tr.Scale())
		}
	})
}

func TestConfigPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"sps c<0":     func() { NewSPS(SPSConfig{C: -1}) },
		"sps growth":  func() { NewSPS(SPSConfig{Growth: 0.5}) },
		"sls beta":    func() { NewSLS(SLSConfig{Beta: 1.5}) },
		"sls c":       func() { NewSLS(SLSConfig{C: 1}) },
		"trust nil":   func() { NewTrust(nil, TrustConfig{}) },
		"trust scale": func() { NewTrust(fixed{}, TrustConfig{MinScale: 2, MaxScale: 1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// Scaling by κ > 1 never takes the rate past the inner rule's upper bound.
func TestTrustRespectsLRMax(t *testing.T) {
	inner := gen.NewExact(gen.ExactConfig{Limits: gen.Limits{LRMax: 0.1}})
	tr := NewTrust(inner, TrustConfig{MaxScale: 2, LRMax: 0.1})
	if err := tr.SetState(gen.State{Kind: "trust/gen-exact", Values: map[string]float64{"kappa": 2, "inner.alpha": 0.1}}); err != nil {
		t.Fatal(err)
	}
	// f = ½θ² along u = ∇f: α* = 1, clamped by the inner rule to 0.1;
	// κ = 2 must not double it.
	line := newQuad([]float64{1}, []float64{1})
	line.sgd()
	d := tr.Next(0, line)
	if d.LR > 0.1 {
		t.Fatalf("trust with κ = 2 returned lr %v above LRMax 0.1", d.LR)
	}
}

// Scaling by a small κ never takes the rate below the rule's lower bound.
func TestTrustRespectsLRMin(t *testing.T) {
	inner := gen.NewExact(gen.ExactConfig{Limits: gen.Limits{LRMin: 0.05}})
	tr := NewTrust(inner, TrustConfig{MaxScale: 2, LRMin: 0.05})
	if err := tr.SetState(gen.State{Kind: "trust/gen-exact", Values: map[string]float64{"kappa": 1e-3, "inner.alpha": 0.1}}); err != nil {
		t.Fatal(err)
	}
	line := newQuad([]float64{1}, []float64{1})
	line.sgd()
	if d := tr.Next(0, line); d.LR < 0.05 {
		t.Fatalf("trust with κ = 1e-3 returned lr %v below LRMin 0.05", d.LR)
	}
}
