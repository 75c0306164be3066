package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// Cases of the transformer primitives for TestPrimitives. A square x⊙x in
// front of a primitive gives its input a nonzero second tangent, so that
// the jet's ẍ path is checked as well as its own curvature.
func init() {
	sq := func(t *Tape[float64], x *Var[float64]) *Var[float64] { return Mul(t, x, x) }
	tanh := Act{Kind: Tanh}
	addCases(
		primCase{name: "layerNormOp/affine-3d", shapes: [][]int{{2, 3, 5}, {5}, {5}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return LayerNorm(t, sq(t, in[0]), in[1], in[2], 1e-5)
		}},
		primCase{name: "layerNormOp/gain-squared-nobias", shapes: [][]int{{4, 6}, {6}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return LayerNorm(t, Activate(t, in[0], tanh), sq(t, in[1]), nil, 1e-3)
		}},
		primCase{name: "layerNormOp/data-input", shapes: [][]int{{3, 4}, {4}, {4}}, data: []bool{true, false, false}, linear: true, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return LayerNorm(t, in[0], in[1], in[2], 1e-5)
		}},
		primCase{name: "batchMatMulOp/both-moving", shapes: [][]int{{2, 3, 4}, {2, 4, 5}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return BatchMatMul(t, sq(t, in[0]), Activate(t, in[1], tanh), false)
		}},
		primCase{name: "batchMatMulOp/transB-4d", shapes: [][]int{{2, 2, 3, 4}, {2, 2, 5, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return BatchMatMul(t, in[0], sq(t, in[1]), true)
		}},
		primCase{name: "batchMatMulOp/params-only", shapes: [][]int{{3, 2, 4}, {3, 2, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// Both factors are parameters: the second tangent is the cross
			// term alone.
			return BatchMatMul(t, in[0], in[1], true)
		}},
		primCase{name: "batchMatMulOp/data-factor", shapes: [][]int{{2, 3, 4}, {2, 4, 2}}, data: []bool{false, true}, linear: true, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return BatchMatMul(t, in[0], in[1], false)
		}},
		primCase{name: "softmaxOp/causal", shapes: [][]int{{2, 4, 4}}, pre: preMasked, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Softmax(t, in[0], 0.7, true)
		}},
		primCase{name: "softmaxOp/causal-fewer-queries", shapes: [][]int{{2, 1, 3, 5}}, pre: preMasked, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Softmax(t, sq(t, in[0]), -1.3, true)
		}},
		primCase{name: "softmaxOp/unmasked", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Softmax(t, sq(t, in[0]), 1, false)
		}},
		primCase{name: "headsOp/split", shapes: [][]int{{6, 12}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// B = 2, T = 3, part 1 of 3 blocks of 2 heads of width 2.
			return SplitHeads(t, sq(t, in[0]), 2, 2, 1, 3)
		}},
		primCase{name: "headsOp/merge", shapes: [][]int{{2, 3, 2, 2}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return MergeHeads(t, sq(t, in[0]))
		}},
	)
}

// preMasked checks a causal softmax's output: rows sum to 1, masked entries
// are exactly 0 and visible ones positive.
func preMasked(t *testing.T, y *Var[float64]) {
	t.Helper()
	s := y.Shape()
	q, k := s[len(s)-2], s[len(s)-1]
	p := y.Value.Data()
	for r := range len(p) / k {
		vis := r%q + k - q + 1
		var sum float64
		for j, v := range p[r*k : (r+1)*k] {
			switch {
			case j >= vis && v != 0:
				t.Fatalf("row %d: masked entry %d is %v, want 0", r, j, v)
			case j < vis && !(v > 0):
				t.Fatalf("row %d: visible entry %d is %v, want > 0", r, j, v)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-14 {
			t.Fatalf("row %d sums to %v", r, sum)
		}
	}
}

// TestSoftmaxMaskedEntriesIgnored: whatever a masked score holds (even +Inf
// or NaN), the output and the gradients of the visible scores do not change,
// and the masked scores get gradient 0 and tangents 0.
func TestSoftmaxMaskedEntriesIgnored(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randTensor(r, 3, 3)
	run := func(fill float64) ([]float64, []float64, []float64) {
		v := x.Clone()
		v.Set(fill, 0, 1)
		v.Set(fill, 0, 2)
		v.Set(fill, 1, 2)
		p := NewParam("x", v)
		var tape Tape[float64]
		y := Softmax(&tape, p, 1, true)
		w := randTensor(rand.New(rand.NewPCG(1, 1)), 3, 3)
		f := Sum(&tape, Mul(&tape, y, tape.Const(w)))
		tape.Backward(f)
		u := randTensor(rand.New(rand.NewPCG(2, 2)), 3, 3)
		tape.Jet(f, []*Var[float64]{p}, []*tensor.Tensor[float64]{u}, Hessian)
		return append([]float64(nil), y.Value.Data()...), append([]float64(nil), p.Grad.Data()...), append([]float64(nil), y.D1().Data()...)
	}
	y0, g0, d0 := run(0)
	for _, fill := range []float64{5, -7, math.Inf(1), math.NaN()} {
		y1, g1, d1 := run(fill)
		for i := range y0 {
			if y1[i] != y0[i] || g1[i] != g0[i] || d1[i] != d0[i] {
				t.Fatalf("masked scores %v: entry %d: value %v, gradient %v, tangent %v; with 0: %v, %v, %v", fill, i, y1[i], g1[i], d1[i], y0[i], g0[i], d0[i])
			}
		}
		for _, i := range []int{1, 2, 5} {
			if g1[i] != 0 || d1[i] != 0 {
				t.Fatalf("masked entry %d: gradient %v, tangent %v, want 0", i, g1[i], d1[i])
			}
		}
	}
}

// TestBatchMatMulForward compares the batched product with the loops of its
// definition.
func TestBatchMatMulForward(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, transB := range []bool{false, true} {
		a := randTensor(r, 2, 3, 4, 5)
		bs := []int{2, 3, 5, 2}
		if transB {
			bs = []int{2, 3, 2, 5}
		}
		b := randTensor(r, bs...)
		var tape Tape[float64]
		c := BatchMatMul(&tape, tape.Const(a), tape.Const(b), transB)
		for i := range 2 {
			for h := range 3 {
				for m := range 4 {
					for n := range 2 {
						var s float64
						for k := range 5 {
							if transB {
								s += a.At(i, h, m, k) * b.At(i, h, n, k)
							} else {
								s += a.At(i, h, m, k) * b.At(i, h, k, n)
							}
						}
						if got := c.Value.At(i, h, m, n); math.Abs(got-s) > 1e-12 {
							t.Fatalf("transB=%v: C[%d,%d,%d,%d] = %v, want %v", transB, i, h, m, n, got, s)
						}
					}
				}
			}
		}
	}
}

// TestLayerNormForward: with unit gain and zero shift every row has mean 0
// and variance var/(var + eps); the affine map then applies per column.
func TestLayerNormForward(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	x := randTensor(r, 4, 7)
	g, b := randTensor(r, 7), randTensor(r, 7)
	var tape Tape[float64]
	y := LayerNorm(&tape, tape.Const(x), tape.Const(g), tape.Const(b), 1e-5)
	for i := range 4 {
		row := x.Data()[i*7 : (i+1)*7]
		var mu, v float64
		for _, e := range row {
			mu += e / 7
		}
		for _, e := range row {
			v += (e - mu) * (e - mu) / 7
		}
		for j, e := range row {
			want := g.Data()[j]*(e-mu)/math.Sqrt(v+1e-5) + b.Data()[j]
			if got := y.Value.At(i, j); math.Abs(got-want) > 1e-12 {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, got, want)
			}
		}
	}
}

// TestHeadsRoundTrip: MergeHeads undoes SplitHeads, and the split of part p
// reads the p-th column block.
func TestHeadsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	x := randTensor(r, 6, 8) // B = 2, T = 3, D = 8 (2 heads of 4)
	var tape Tape[float64]
	back := MergeHeads(&tape, SplitHeads(&tape, tape.Const(x), 2, 2, 0, 1))
	for i, v := range x.Data() {
		if back.Value.Data()[i] != v {
			t.Fatalf("element %d: %v after split and merge, want %v", i, back.Value.Data()[i], v)
		}
	}
	y := SplitHeads(&tape, tape.Const(x), 2, 2, 1, 2) // columns 4…7, heads of 2
	if got, want := y.Value.At(1, 1, 2, 0), x.At(1*3+2, 4+1*2+0); got != want {
		t.Fatalf("y[1,1,2,0] = %v, want x[5,6] = %v", got, want)
	}
}

// The float32 GELU of Activate (kernel.GELU32, with the σ' and σ″ it keeps
// for the reverse and jet rules) agrees with the exact float64 Eval to
// GELU32's bound on Φ (3e-7), times |x| for σ and σ', and relative to φ's
// scale (2 + x²) for σ″; the grid covers both signs and the flushed tails.
func TestGELUFloat32(t *testing.T) {
	var xs []float32
	for x := -16.0; x <= 16; x += 1.0 / 64 {
		xs = append(xs, float32(x))
	}
	var tape Tape[float32]
	x := tape.Const(tensor.FromSlice(xs, len(xs)))
	y := Activate(&tape, x, Act{Kind: GELU})
	op := y.op.(*actOp[float32])
	gelu := Act{Kind: GELU}
	for i, v := range xs {
		f, d1, d2 := gelu.Eval(float64(v))
		ax := math.Abs(float64(v))
		tol := 3e-7*(1+ax) + 1e-38*(1+ax)
		phi := math.Exp(-min(ax*ax, 1e4)/2) / math.Sqrt(2*math.Pi)
		g, e1, e2 := float64(y.Value.Data()[i]), float64(op.s1[i]), float64(op.s2[i])
		if math.Abs(f-g) > tol || math.Abs(d1-e1) > tol || math.Abs(d2-e2) > (3e-7*phi+1e-38)*(2+ax*ax) {
			t.Fatalf("x = %v: float32 path (%v, %v, %v), exact (%v, %v, %v)", v, g, e1, e2, f, d1, d2)
		}
	}
}

// TestScaledMax32 checks the softmax's row maximum against its definition,
// max_j of the rounded products scale·x_j, bit for bit (±0 aside), for
// positive scales (kernel.Max32 times scale) and others (the loop), on
// rows with ±Inf, ±0 and NaN planted.
func TestScaledMax32(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), float32(math.NaN()), 3e38}
	for trial := range 3000 {
		x := make([]float32, r.IntN(70))
		for i := range x {
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-4)))
			if r.IntN(20) == 0 {
				x[i] = specials[r.IntN(len(specials))]
			}
		}
		scale := []float32{0.17677669, 1, 3.5, 1e30, 0, -0.5}[trial%6]
		want := float32(math.Inf(-1))
		for _, v := range x {
			want = max(want, scale*v)
		}
		got := scaledMax32(x, scale)
		if got != want && !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) {
			t.Fatalf("scale %v, x = %v: scaledMax32 = %v, want %v", scale, x, got, want)
		}
	}
}
