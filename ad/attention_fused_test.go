package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// Cases of the fused attention for TestPrimitives (central differences of
// the VJP and the jet): a squared input gives the jet's second-tangent
// path, parameters alone the cross terms; T = 70 crosses a block boundary
// (attnBlock = 64), so the blocked products meet the mask on both sides of
// it.
func init() {
	sq := func(t *Tape[float64], x *Var[float64]) *Var[float64] { return Mul(t, x, x) }
	addCases(
		primCase{name: "attentionOp/squared-input", shapes: [][]int{{6, 12}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// B = 2, T = 3, 2 heads of width 2.
			return CausalSelfAttention(t, sq(t, in[0]), 2, 2, 0.8)
		}},
		primCase{name: "attentionOp/params-only", shapes: [][]int{{8, 6}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// B = 2, T = 4, one head of width 2.
			return CausalSelfAttention(t, in[0], 2, 1, -1.1)
		}},
		primCase{name: "attentionOp/across-blocks", shapes: [][]int{{70, 6}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return CausalSelfAttention(t, sq(t, in[0]), 1, 1, 0.5)
		}},
	)
}

// attentionPair records, on one tape each, the fused attention and the
// composition it replaces, on the same parameter qkv, followed by a
// squared-error loss against target (so that the Gauss–Newton mode has a
// loss curvature to keep).
func attentionPair[T Float](qkv *Var[T], target *tensor.Tensor[T], batch, heads int, scale float64, fused bool) (*Tape[T], *Var[T], *Var[T]) {
	t := &Tape[T]{}
	var y *Var[T]
	if fused {
		y = CausalSelfAttention(t, qkv, batch, heads, scale)
	} else {
		q := SplitHeads(t, qkv, batch, heads, 0, 3)
		k := SplitHeads(t, qkv, batch, heads, 1, 3)
		v := SplitHeads(t, qkv, batch, heads, 2, 3)
		p := Softmax(t, BatchMatMul(t, q, k, true), scale, true)
		y = MergeHeads(t, BatchMatMul(t, p, v, false))
	}
	return t, y, MeanSquaredError(t, y, target)
}

// compareAttention checks that the fused attention gives the composition's
// output, gradient and jet (both curvature modes) to tol relative to each
// quantity's scale, with T = 70 rows per sequence (two blocks, the second
// partial).
func compareAttention[T Float](t *testing.T, tol float64) {
	const batch, n, heads, e = 2, 70, 2, 3
	r := rand.New(rand.NewPCG(3, 4))
	mk := func(shape ...int) *tensor.Tensor[T] {
		x := tensor.New[T](shape...)
		for i := range x.Data() {
			x.Data()[i] = T(r.NormFloat64())
		}
		return x
	}
	x, target, dir := mk(batch*n, 3*heads*e), mk(batch*n, heads*e), mk(batch*n, 3*heads*e)
	type result struct {
		y, g       []T
		f, d1, d2  [2]float64
		jetOutputs [2][]T
	}
	var res [2]result
	for i, fused := range []bool{false, true} {
		p := NewParam("qkv", x.Clone())
		tape, y, f := attentionPair(p, target, batch, heads, 0.4, fused)
		tape.Backward(f)
		res[i].y = append([]T(nil), y.Value.Data()...)
		res[i].g = append([]T(nil), p.Grad.Data()...)
		for m, c := range []Curvature{Hessian, GaussNewton} {
			res[i].f[m], res[i].d1[m], res[i].d2[m] = tape.Jet(f, []*Var[T]{p}, []*tensor.Tensor[T]{dir}, c)
			res[i].jetOutputs[m] = append([]T(nil), y.D1().Data()...)
		}
	}
	near := func(what string, a, b []T) {
		t.Helper()
		var scale float64
		for _, v := range a {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i := range a {
			if math.Abs(float64(a[i])-float64(b[i])) > tol*scale {
				t.Fatalf("%s[%d]: composition %v, fused %v (scale %v)", what, i, a[i], b[i], scale)
			}
		}
	}
	near("output", res[0].y, res[1].y)
	near("gradient", res[0].g, res[1].g)
	for m, name := range []string{"Hessian", "Gauss–Newton"} {
		near(name+" first tangent of the output", res[0].jetOutputs[m], res[1].jetOutputs[m])
		for _, q := range [][2]float64{{res[0].f[m], res[1].f[m]}, {res[0].d1[m], res[1].d1[m]}, {res[0].d2[m], res[1].d2[m]}} {
			if math.Abs(q[0]-q[1]) > tol*(math.Abs(q[0])+1e-300) {
				t.Fatalf("%s jet (f, ∇f·u, uᵀHu): composition (%v, %v, %v), fused (%v, %v, %v)", name,
					res[0].f[m], res[0].d1[m], res[0].d2[m], res[1].f[m], res[1].d1[m], res[1].d2[m])
			}
		}
	}
	if res[0].d2[0] == res[0].d2[1] {
		t.Fatalf("the Hessian and Gauss–Newton terms agree (%v): the own curvature is not exercised", res[0].d2[0])
	}
}

// TestCausalSelfAttentionMatchesComposition: the fused attention is the
// composition of SplitHeads, BatchMatMul, causal Softmax and MergeHeads,
// value for value, in float64 to rounding (1e-12) and in float32 to its
// rounding (the products are summed in other orders: 2e-5).
func TestCausalSelfAttentionMatchesComposition(t *testing.T) {
	if attnBlock >= 70 {
		t.Fatalf("attnBlock %d: the cases of T = 70 no longer cross a block boundary", attnBlock)
	}
	t.Run("float64", func(t *testing.T) { compareAttention[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { compareAttention[float32](t, 2e-5) })
}
