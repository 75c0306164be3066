package optim

import (
	"math"
	"slices"
	"testing"

	"github.com/genopt/gen/tensor"
)

// Oracles for the learning-rate-free peers: scalar float64 loops written from
// the update equations of the papers' reference implementations (quoted in
// each optimizer's doc comment). They run on the quadratic of optim_test.go
// with α = 1, as the peers are meant to run.

func dadaptAdamOracle(b1, b2, eps, d0, lr, wd, growthRate float64, decouple, bias bool) oracle {
	var m, v, s []float64
	var R float64
	d, k := d0, 0.0
	return func(_ int, th, g []float64) []float64 {
		if m == nil {
			m, v, s = make([]float64, len(g)), make([]float64, len(g)), make([]float64, len(g))
		}
		bc := 1.0
		if bias {
			bc = math.Sqrt(1-math.Pow(b2, k+1)) / (1 - math.Pow(b1, k+1))
		}
		dlr := d * lr * bc
		sb2 := math.Sqrt(b2)
		u := make([]float64, len(g))
		var num, l1 float64
		for i := range g {
			gi := g[i]
			if !decouple {
				gi += wd * th[i]
			}
			num += dlr * gi * s[i] / (math.Sqrt(v[i]) + eps)
			m[i] = b1*m[i] + dlr*(1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			s[i] = sb2*s[i] + dlr*(1-sb2)*gi
			l1 += math.Abs(s[i])
			u[i] = m[i] / (math.Sqrt(v[i]) + eps)
			if decouple {
				u[i] += wd * dlr * th[i]
			}
		}
		if l1 == 0 {
			return make([]float64, len(g))
		}
		R = sb2*R + (1-sb2)*num
		dHat := R / ((1 - sb2) * l1)
		d = math.Max(d, math.Min(dHat, d*growthRate))
		k++
		return u
	}
}

func dadaptSGDOracle(d0, lr, mu, wd float64) oracle {
	var x0, s []float64
	var r, g0 float64
	d := d0
	return func(t int, th, g []float64) []float64 {
		gh := make([]float64, len(g))
		for i := range g {
			gh[i] = g[i] + wd*th[i]
		}
		if t == 1 {
			x0, s = slices.Clone(th), make([]float64, len(g))
			for _, x := range gh {
				g0 += x * x
			}
			g0 = math.Sqrt(g0)
		}
		dlr := d * lr / g0
		var ssq float64
		for i := range gh {
			r += dlr * gh[i] * s[i]
			s[i] += dlr * gh[i]
			ssq += s[i] * s[i]
		}
		u := make([]float64, len(g))
		for i := range u {
			z := x0[i] - s[i]
			next := mu*th[i] + (1-mu)*z
			u[i] = th[i] - next
		}
		d = math.Max(d, 2*r/math.Sqrt(ssq))
		return u
	}
}

func prodigyOracle(b1, b2, eps, d0, lr, wd, coef float64) oracle {
	var x0, s, m, v []float64
	var r float64
	b3 := math.Sqrt(b2)
	d, dMax := d0, d0
	return func(t int, th, g []float64) []float64 {
		if t == 1 {
			x0 = slices.Clone(th)
			s, m, v = make([]float64, len(g)), make([]float64, len(g)), make([]float64, len(g))
		}
		dlr := d * lr
		r *= b3
		var den float64
		for i := range g {
			r += (d / d0) * dlr * g[i] * (x0[i] - th[i])
			m[i] = b1*m[i] + d*(1-b1)*g[i]
			v[i] = b2*v[i] + d*d*(1-b2)*g[i]*g[i]
			s[i] = b3*s[i] + (d/d0)*dlr*g[i]
			den += math.Abs(s[i])
		}
		dHat := coef * r / den
		if d == d0 {
			d = math.Max(d, dHat)
		}
		dMax = math.Max(dMax, dHat)
		d = math.Min(dMax, d*math.Inf(1))
		u := make([]float64, len(g))
		for i := range g {
			u[i] = dlr*m[i]/(math.Sqrt(v[i])+d*eps) + wd*dlr*th[i] // decoupled decay
		}
		return u
	}
}

func dogOracle(repsRel, eps, lr, wd float64) oracle {
	var x0 []float64
	var rbar, G float64
	return func(t int, th, g []float64) []float64 {
		gh := make([]float64, len(g))
		var gsq float64
		for i := range g {
			gh[i] = g[i] + wd*th[i]
			gsq += gh[i] * gh[i]
		}
		if t == 1 {
			x0 = slices.Clone(th)
			var n float64
			for _, x := range th {
				n += x * x
			}
			rbar = repsRel * (1 + math.Sqrt(n))
			G = gsq + eps
		} else {
			var dist float64
			for i := range th {
				dist += (th[i] - x0[i]) * (th[i] - x0[i])
			}
			rbar = math.Max(rbar, math.Sqrt(dist))
			G += gsq
		}
		eta := lr * rbar / math.Sqrt(G)
		u := make([]float64, len(g))
		for i := range gh {
			u[i] = eta * gh[i]
		}
		return u
	}
}

func peerCases() []trajCase {
	var cs []trajCase
	add := func(name string, m32 func() Optimizer[float32], m64 func() Optimizer[float64], or func() oracle) {
		cs = append(cs, trajCase{name: name, make32: m32, make64: m64, oracle: or})
	}
	m32, m64 := both(DAdaptAdamConfig{}, NewDAdaptAdam[float32], NewDAdaptAdam[float64])
	add("dadapt-adam", m32, m64, func() oracle { return dadaptAdamOracle(0.9, 0.999, 1e-8, 1e-6, 1, 0, math.Inf(1), false, false) })
	m32, m64 = both(DAdaptAdamConfig{D0: 0.05, Beta2: 0.9, BiasCorrection: true, Decouple: true, GrowthRate: 2, Common: Common{WeightDecay: 0.1}}, NewDAdaptAdam[float32], NewDAdaptAdam[float64])
	add("dadapt-adam/d0+bias+decoupled+growth", m32, m64, func() oracle { return dadaptAdamOracle(0.9, 0.9, 1e-8, 0.05, 1, 0.1, 2, true, true) })
	m32, m64 = both(DAdaptAdamConfig{D0: 0.05, Common: Common{WeightDecay: 0.1}}, NewDAdaptAdam[float32], NewDAdaptAdam[float64])
	add("dadapt-adam/coupled", m32, m64, func() oracle { return dadaptAdamOracle(0.9, 0.999, 1e-8, 0.05, 1, 0.1, math.Inf(1), false, false) })
	m32, m64 = both(DAdaptSGDConfig{}, NewDAdaptSGD[float32], NewDAdaptSGD[float64])
	add("dadapt-sgd", m32, m64, func() oracle { return dadaptSGDOracle(1e-6, 1, 0, 0) })
	m32, m64 = both(DAdaptSGDConfig{D0: 0.1, Momentum: 0.5, LR: 0.8, Common: Common{WeightDecay: 0.05}}, NewDAdaptSGD[float32], NewDAdaptSGD[float64])
	add("dadapt-sgd/momentum+decay", m32, m64, func() oracle { return dadaptSGDOracle(0.1, 0.8, 0.5, 0.05) })
	m32, m64 = both(ProdigyConfig{}, NewProdigy[float32], NewProdigy[float64])
	add("prodigy", m32, m64, func() oracle { return prodigyOracle(0.9, 0.999, 1e-8, 1e-6, 1, 0, 1) })
	m32, m64 = both(ProdigyConfig{D0: 0.01, DCoef: 0.5, Common: Common{WeightDecay: 0.1}}, NewProdigy[float32], NewProdigy[float64])
	add("prodigy/d0+coef+decay", m32, m64, func() oracle { return prodigyOracle(0.9, 0.999, 1e-8, 0.01, 1, 0.1, 0.5) })
	m32, m64 = both(DoGConfig{}, NewDoG[float32], NewDoG[float64])
	add("dog", m32, m64, func() oracle { return dogOracle(1e-6, 1e-8, 1, 0) })
	m32, m64 = both(DoGConfig{RepsRel: 0.1, Common: Common{WeightDecay: 0.05}}, NewDoG[float32], NewDoG[float64])
	add("dog/reps+decay", m32, m64, func() oracle { return dogOracle(0.1, 1e-8, 1, 0.05) })
	return cs
}

func TestPeerTrajectories(t *testing.T) {
	// tolPeer32: the peers' step sizes are ratios of sums over the run
	// (d̂ = R/‖s‖₁, η = r̄/√G); in float32 each sum carries relative errors
	// of a few 1e-7 that the ratio and the feedback through θ amplify.
	const tolPeer32 = 2e-4
	for _, c := range peerCases() {
		t.Run(c.name, func(t *testing.T) {
			want := oracleTrajectoryAlpha(c, 1)
			checkTrajectory(t, "float64", optimizerTrajectoryAlpha(c.make64(), 1), want, tol64)
			checkTrajectory(t, "float32", optimizerTrajectoryAlpha(c.make32(), 1), want, tolPeer32)
		})
	}
}

// TestPeersAdapt: on the quadratic, started at ‖θ₀ − θ*‖ ≈ 1.2 with d₀ =
// 1e-6, each peer's step size grows by orders of magnitude on its own and the
// optimality gap falls at least 100-fold within 200 steps at α = 1 (measured:
// D-Adaptation and Prodigy reach ~1e-9, DoG ~1e-3), which is the point of the
// methods.
func TestPeersAdapt(t *testing.T) {
	const peerSteps = 200
	loss := func(th []float64) float64 {
		var f float64
		for k := range th {
			f += quadA[k]/2*th[k]*th[k] - quadB[k]*th[k]
		}
		return f
	}
	for _, o := range []Optimizer[float64]{NewDAdaptAdam[float64](DAdaptAdamConfig{}), NewDAdaptSGD[float64](DAdaptSGDConfig{}), NewProdigy[float64](ProdigyConfig{}), NewDoG[float64](DoGConfig{})} {
		params := quadTensors[float64](theta0)
		grads := quadTensors[float64]([]float64{0, 0, 0})
		u := quadTensors[float64]([]float64{0, 0, 0})
		f0 := loss(theta0)
		for range peerSteps {
			th := flat(params)
			g := make([]float64, len(th))
			for k := range th {
				g[k] = quadA[k]*th[k] - quadB[k]
			}
			copyInto(grads, g)
			o.Direction(u, params, grads)
			for i := range params {
				tensor.Axpy(params[i], -1, u[i])
			}
		}
		f := loss(flat(params))
		fStar := 0.0
		for k := range quadA {
			fStar -= quadB[k] * quadB[k] / (2 * quadA[k])
		}
		if !(f-fStar < 1e-2*(f0-fStar)) {
			t.Errorf("%s: after %d steps the gap f − f* = %v, started at %v; want it 100 times smaller", o.Name(), peerSteps, f-fStar, f0-fStar)
		}
	}
}

// TestDoGByHand: θ₀ = (3, 4), ‖θ₀‖ = 5, constant gradient g = (0.6, 0.8),
// ‖g‖ = 1, no ε: r̄ = 1e-6·(1+5) = 6e-6, G = 1, η₁ = 6e-6. After the step
// ‖θ₁ − θ₀‖ = 6e-6 = r̄, G = 2, η₂ = 6e-6/√2.
func TestDoGByHand(t *testing.T) {
	o := NewDoG[float64](DoGConfig{Eps: Off})
	params := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{3, 4}, 2)}
	grads := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{0.6, 0.8}, 2)}
	u := []*tensor.Tensor[float64]{tensor.New[float64](2)}
	for step, eta := range []float64{6e-6, 6e-6 / math.Sqrt2} {
		o.Direction(u, params, grads)
		if got := o.Eta(); math.Abs(got-eta) > 1e-9*eta {
			t.Errorf("step %d: η = %.17g, want %.17g", step+1, got, eta)
		}
		if got := u[0].Data(); math.Abs(got[0]-0.6*eta) > 1e-9*eta || math.Abs(got[1]-0.8*eta) > 1e-9*eta {
			t.Errorf("step %d: u = %v, want η·g = %v", step+1, got, []float64{0.6 * eta, 0.8 * eta})
		}
		tensor.Axpy(params[0], -1, u[0])
	}
}

// TestPeersSkipZeroGradient: with an all-zero gradient the D-Adaptation
// methods take no step (their estimates are undefined) and do not produce NaN.
func TestPeersSkipZeroGradient(t *testing.T) {
	for _, name := range []string{"dadapt-adam", "dadapt-sgd", "prodigy"} {
		o, err := New[float64](name, Common{})
		if err != nil {
			t.Fatal(err)
		}
		params := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{1, 2}, 2)}
		grads := []*tensor.Tensor[float64]{tensor.New[float64](2)}
		u := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{7, 7}, 2)}
		o.Direction(u, params, grads)
		if got := u[0].Data(); got[0] != 0 || got[1] != 0 {
			t.Errorf("%s: zero gradient: u = %v, want 0", name, got)
		}
		grads[0].Data()[0] = 1
		o.Direction(u, params, grads)
		if got := u[0].Data(); !(got[0] > 0) || math.IsNaN(got[1]) {
			t.Errorf("%s: after a zero gradient, g = (1, 0): u = %v, want a finite step with u₀ > 0", name, got)
		}
	}
}
