package ad_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// The published oracles of the source text's author's tests (REFERENCES.md),
// in the line convention g(α) = f(θ − α·u) = c0 + c1·α + c2·α² + … with the
// SGD direction u = ∇f. ad.Jet returns derivatives along +u, so
//
//	c0 = f,   c1 = −ḟ = −∇f·u,   c2 = f̈/2 = uᵀHu/2.

// tolOracle bounds relative errors against closed forms: both sides are
// exact up to a few roundings.
const tolOracle = 1e-12

// sgdLine records f, takes u = ∇f by Backward and returns (c0, c1, c2).
func sgdLine(t *testing.T, tape *ad.Tape[float64], params []*ad.Var[float64], record func() *ad.Var[float64]) (c0, c1, c2 float64) {
	t.Helper()
	tape.Reset()
	f := record()
	ad.ZeroGrad(params)
	tape.Backward(f)
	dirs := make([]*tensor.Tensor[float64], len(params))
	var g2 float64
	for i, p := range params {
		dirs[i] = p.Grad.Clone()
		g2 += tensor.Dot(p.Grad, p.Grad)
	}
	f0, d1, d2 := tape.Jet(f, params, dirs, ad.Hessian)
	// For the SGD direction the first-order coefficient is −Σ grad².
	if e := rel(d1, g2); e > tolOracle {
		t.Errorf("∇f·u = %v, Σ grad² = %v", d1, g2)
	}
	return f0, -d1, d2 / 2
}

func rel(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

func check(t *testing.T, what string, got, want float64) {
	t.Helper()
	if want == 0 {
		if got != 0 {
			t.Errorf("%s = %v, want 0", what, got)
		}
		return
	}
	if e := rel(got, want); e > tolOracle {
		t.Errorf("%s = %v, want %v (rel. err %.2g)", what, got, want, e)
	}
}

func randVec(r *rand.Rand, n int) *tensor.Tensor[float64] {
	v := tensor.New[float64](1, n)
	for i := range v.Data() {
		v.Data()[i] = r.NormFloat64()
	}
	return v
}

// Linear model f(w) = ⟨w, x⟩ − y with the raw loss ŷ − y, batch 1:
// coefficients (⟨w, x⟩ − y, −‖x‖², 0).
func TestOracleLinearModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 5 {
		x, y := randVec(r, 6), r.NormFloat64()
		w := ad.NewParam("w", randVec(r, 6))
		tape := &ad.Tape[float64]{}
		c0, c1, c2 := sgdLine(t, tape, []*ad.Var[float64]{w}, func() *ad.Var[float64] {
			pred := ad.Linear(tape, tape.Const(x), w, nil) // 1×1
			return ad.Sub(tape, pred, tape.Const(tensor.FromSlice([]float64{y}, 1, 1)))
		})
		check(t, "c0", c0, tensor.Dot(w.Value, x)-y)
		check(t, "c1", c1, -tensor.Dot(x, x))
		check(t, "c2", c2, 0)
	}
}

// ŷ = ‖w‖²·x (scalar x), loss ŷ − y: coefficients (ŷ − y, −4ŷx, 4ŷx²).
func TestOracleSquaredNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for range 5 {
		x, y := r.NormFloat64(), r.NormFloat64()
		w := ad.NewParam("w", randVec(r, 4))
		tape := &ad.Tape[float64]{}
		c0, c1, c2 := sgdLine(t, tape, []*ad.Var[float64]{w}, func() *ad.Var[float64] {
			pred := ad.Scale(tape, ad.Sum(tape, ad.Mul(tape, w, w)), x)
			return ad.Sub(tape, pred, tape.Const(tensor.Scalar(y)))
		})
		yhat := tensor.Dot(w.Value, w.Value) * x
		check(t, "c0", c0, yhat-y)
		check(t, "c1", c1, -4*yhat*x)
		check(t, "c2", c2, 4*yhat*x*x)
	}
}

// One layer ReLU(W·x + b) with the loss 1/(2M)·Σ‖e‖², batch 1, SGD
// direction: α* = (∇f·u)/(uᵀHu) = 1/(1 + ‖x‖²) (the source text's closed
// form; DESIGN.md).
func TestOracleOneLayerReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 10 {
		x, target := randVec(r, 5), randVec(r, 4)
		w := ad.NewParam("W", tensor.New[float64](4, 5))
		for i := range w.Value.Data() {
			w.Value.Data()[i] = r.NormFloat64()
		}
		b := ad.NewParam("b", randVec(r, 4).Reshape(4))
		params := []*ad.Var[float64]{w, b}
		tape := &ad.Tape[float64]{}
		_, c1, c2 := sgdLine(t, tape, params, func() *ad.Var[float64] {
			y := ad.Activate(tape, ad.Linear(tape, tape.Const(x), w, b), ad.Act{Kind: ad.ReLU})
			return ad.HalfSquaredError(tape, y, target)
		})
		if c1 == 0 {
			continue // every unit inactive: no direction
		}
		check(t, "α*", -c1/(2*c2), 1/(1+tensor.Dot(x, x)))
	}
}
