package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// TestActivationKinks checks the documented conventions at the kink x = 0:
// ReLU'(0) = 0 and LeakyReLU'(0) = slope, in the gradient (x̄ = σ'(x)·ȳ) and
// in the first tangent (ẏ = σ'(x)·ẋ), and a zero second tangent. The
// expected values are single products, so they are compared exactly.
func TestActivationKinks(t *testing.T) {
	t.Run("float64", func(t *testing.T) { checkKinks[float64](t) })
	t.Run("float32", func(t *testing.T) { checkKinks[float32](t) })
}

func checkKinks[T Float](t *testing.T) {
	x := []T{0, 0, 1.5, -2, 0}
	u := []T{1, -1, 0.5, 0.25, 3} // ẋ
	R := []T{3, -2, 1, 1, 0.5}    // ȳ, through f = Σ R ⊙ y
	deriv := func(a Act, v T) T { // the convention, written out
		switch {
		case v > 0:
			return 1
		case a.Kind == LeakyReLU:
			return T(a.Slope)
		}
		return 0
	}
	for _, a := range []Act{{Kind: ReLU}, {Kind: LeakyReLU, Slope: 0.1}, {Kind: LeakyReLU, Slope: 0.3}} {
		p := NewParam("x", tensor.FromSlice(append([]T(nil), x...), 1, len(x)))
		tape := &Tape[T]{}
		y := Activate(tape, p, a)
		f := Sum(tape, Mul(tape, y, tape.Const(tensor.FromSlice(R, 1, len(R)))))
		ZeroGrad([]*Var[T]{p})
		tape.Backward(f)
		tape.Jet(f, []*Var[T]{p}, []*tensor.Tensor[T]{tensor.FromSlice(u, 1, len(u))}, Hessian)
		for i, v := range x {
			if got, want := p.Grad.Data()[i], deriv(a, v)*R[i]; got != want {
				t.Errorf("%v at x = %v: gradient %v, want σ'·ȳ = %v·%v = %v", a, v, got, deriv(a, v), R[i], want)
			}
			if got, want := y.D1().Data()[i], deriv(a, v)*u[i]; got != want {
				t.Errorf("%v at x = %v: ẏ = %v, want σ'·ẋ = %v·%v = %v", a, v, got, deriv(a, v), u[i], want)
			}
			if d2 := y.D2(); d2 != nil && d2.Data()[i] != 0 {
				t.Errorf("%v at x = %v: ÿ = %v, want 0", a, v, d2.Data()[i])
			}
		}
	}
}

// TestGaussNewtonLimits pins down the two limits stated in the doc of
// GaussNewton with closed forms.
func TestGaussNewtonLimits(t *testing.T) {
	// Both sides are a handful of float64 operations.
	const tol = 1e-14

	// LogSoftmax in front of a squared error keeps its curvature. With
	// z = 0 (1×4, p uniform), ż = u = (1, −1, 0, 0) and targets −10:
	// y = −ln 4, e = 10 − ln 4, ẏ = u, ÿ = −Var_p(u) = −1/2 per element, and
	// MSE's L̈ = 2/4·(‖ẏ‖² + ⟨e, ÿ⟩) = 1/2·(2 − 2(10 − ln 4)) = ln 4 − 9 < 0:
	// G is not positive semi-definite.
	z := NewParam("z", tensor.New[float64](1, 4))
	target := tensor.FromSlice([]float64{-10, -10, -10, -10}, 1, 4)
	u := tensor.FromSlice([]float64{1, -1, 0, 0}, 1, 4)
	tape := &Tape[float64]{}
	loss := MeanSquaredError(tape, LogSoftmax(tape, z), target)
	_, _, g := tape.Jet(loss, []*Var[float64]{z}, []*tensor.Tensor[float64]{u}, GaussNewton)
	if want := math.Log(4) - 9; math.Abs(g-want) > tol*math.Abs(want) {
		t.Errorf("MSE(LogSoftmax(z)): uᵀGu = %v, want ln 4 − 9 = %v", g, want)
	}

	// A squared error written with Sub, Mul and Sum counts as model: with
	// e = w − target linear in w, uᵀHu = 2‖u‖² but uᵀGu = 0.
	r := rand.New(rand.NewPCG(4, 4))
	w := NewParam("w", randTensor(r, 2, 3))
	dir := randTensor(r, 2, 3)
	tape.Reset()
	e := Sub(tape, w, tape.Const(randTensor(r, 2, 3)))
	f := Sum(tape, Mul(tape, e, e))
	_, _, h := tape.Jet(f, []*Var[float64]{w}, []*tensor.Tensor[float64]{dir}, Hessian)
	_, _, g = tape.Jet(f, []*Var[float64]{w}, []*tensor.Tensor[float64]{dir}, GaussNewton)
	if want := 2 * sqNorm(dir.Data()); math.Abs(h-want) > tol*want || g != 0 {
		t.Errorf("Sum(Mul(e, e)): uᵀHu = %v, uᵀGu = %v; want %v and 0", h, g, want)
	}
}

// TestJetLossTangentsFloat64 checks that in float32 Jet returns the loss
// primitives' value and tangents as accumulated in float64, not rounded to
// float32: against the same sums computed here in float64 from the float32
// inputs, the relative error must be below tolF64 = 1e-12, far below the
// 6e-8 of one float32 rounding (a returned value rounded to float32 misses
// by up to that much; the test also checks that the reference is not a
// float32 number, so that the rounding would show).
func TestJetLossTangentsFloat64(t *testing.T) {
	const tolF64 = 1e-12
	r := rand.New(rand.NewPCG(9, 9))
	const m, c = 5, 7
	rnd := func() *tensor.Tensor[float32] {
		x := tensor.New[float32](m, c)
		for i := range x.Data() {
			x.Data()[i] = float32(r.NormFloat64())
		}
		return x
	}
	labels := []int{0, 6, 3, 3, 1}
	x, target, u := rnd(), rnd(), rnd()
	x64 := make([]float64, m*c)
	u64 := make([]float64, m*c)
	t64 := make([]float64, m*c)
	for i := range x64 {
		x64[i], u64[i], t64[i] = float64(x.Data()[i]), float64(u.Data()[i]), float64(target.Data()[i])
	}

	// Half squared error: f = 1/(2M)·Σ e², ḟ = 1/M·Σ e·u, f̈ = 1/M·Σ u².
	var hf, hd1, hd2 float64
	for i := range x64 {
		e := x64[i] - t64[i]
		hf += e * e / (2 * m)
		hd1 += e * u64[i] / m
		hd2 += u64[i] * u64[i] / m
	}
	// Cross-entropy: f = 1/M·Σ_i (lse_i − z_i,l), ḟ = 1/M·Σ_i (⟨p_i, u_i⟩ − u_i,l),
	// f̈ = 1/M·Σ_i Var_{p_i}(u_i).
	var cf, cd1, cd2 float64
	// NLL: f = −1/M·Σ_i z_i,l, ḟ = −1/M·Σ_i u_i,l, f̈ = 0.
	var nf, nd1 float64
	for i, l := range labels {
		row, ur := x64[i*c:(i+1)*c], u64[i*c:(i+1)*c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - mx)
		}
		var pu, puu float64
		for j, v := range row {
			p := math.Exp(v-mx) / s
			pu += p * ur[j]
			puu += p * ur[j] * ur[j]
		}
		cf += (mx + math.Log(s) - row[l]) / m
		cd1 += (pu - ur[l]) / m
		cd2 += (puu - pu*pu) / m
		nf -= row[l] / m
		nd1 -= ur[l] / m
	}

	for _, tc := range []struct {
		name        string
		build       func(tape *Tape[float32], p *Var[float32]) *Var[float32]
		f, d1, d2   float64
		roundedAway []float64 // references that are not float32 numbers
	}{
		{"HalfSquaredError", func(tape *Tape[float32], p *Var[float32]) *Var[float32] {
			return HalfSquaredError(tape, p, target)
		}, hf, hd1, hd2, []float64{hf, hd1, hd2}},
		{"SoftmaxCrossEntropy", func(tape *Tape[float32], p *Var[float32]) *Var[float32] {
			return SoftmaxCrossEntropy(tape, p, labels)
		}, cf, cd1, cd2, []float64{cf, cd1, cd2}},
		{"NLL", func(tape *Tape[float32], p *Var[float32]) *Var[float32] {
			return NLL(tape, p, labels)
		}, nf, nd1, 0, []float64{nf, nd1}},
	} {
		for _, v := range tc.roundedAway {
			if float64(float32(v)) == v {
				t.Fatalf("%s: reference %v is a float32 number; the test could not see rounding (change the seed)", tc.name, v)
			}
		}
		p := NewParam("x", x)
		tape := &Tape[float32]{}
		out := tc.build(tape, p)
		f, d1, d2 := tape.Jet(out, []*Var[float32]{p}, []*tensor.Tensor[float32]{u}, Hessian)
		for _, q := range []struct {
			what      string
			got, want float64
		}{{"f", f, tc.f}, {"ḟ", d1, tc.d1}, {"f̈", d2, tc.d2}} {
			if e := math.Abs(q.got-q.want) / math.Max(math.Abs(q.want), 1e-300); q.want == 0 && q.got != 0 || q.want != 0 && e > tolF64 {
				t.Errorf("%s in float32: Jet's %s = %v, float64 reference %v (rel. err %.2g > %g)", tc.name, q.what, q.got, q.want, e, tolF64)
			}
		}
	}
}
