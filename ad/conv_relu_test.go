package ad

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/internal/kernel/openblas"
	"github.com/genopt/gen/tensor"
)

// Cases of the fused convolution for TestPrimitives: the wide and the
// padded layouts, with and without pooling (the unrolled 2×2 window and
// the general loop), with and without bias, data input included.
func init() {
	tanh := Act{Kind: Tanh}
	addCases(
		primCase{name: "convReLUOp/wide", shapes: [][]int{{2, 2, 5, 6}, {3, 2, 3, 2}, {3}}, pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2DReLU(t, Activate(t, in[0], tanh), in[1], in[2], 1, 0, 0)
		}},
		primCase{name: "convReLUOp/stride2-pad1-nobias", shapes: [][]int{{2, 3, 5, 6}, {4, 3, 3, 3}}, pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2DReLU(t, Activate(t, in[0], tanh), in[1], nil, 2, 1, 0)
		}},
		primCase{name: "convReLUOp/16-channels-transposed", shapes: [][]int{{1, 2, 4, 5}, {16, 2, 2, 2}, {16}}, pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2DReLU(t, Activate(t, in[0], tanh), in[1], in[2], 1, 0, 0)
		}},
		primCase{name: "convReLUOp/pool2-wide", shapes: [][]int{{2, 1, 5, 5}, {2, 1, 2, 2}, {2}}, fill: poolSeparated(2, true), pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// 4×4 outputs in the wide layout (5 columns a row).
			return Conv2DReLU(t, Activate(t, in[0], tanh), in[1], in[2], 1, 0, 2)
		}},
		primCase{name: "convReLUOp/pool2-16-channels-transposed", shapes: [][]int{{1, 1, 5, 5}, {16, 1, 2, 2}, {16}}, fill: poolSeparated(2, true), pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2DReLU(t, Activate(t, in[0], tanh), in[1], in[2], 1, 0, 2)
		}},
		primCase{name: "convReLUOp/data-input-pool3-stride2", shapes: [][]int{{1, 1, 13, 13}, {3, 1, 2, 2}, {3}}, data: []bool{true, false, false}, linear: true, fill: poolSeparated(3, false), pre: reluBothSides, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// 6×6 outputs, 2×2 windows of 3×3: the general loop.
			return Conv2DReLU(t, in[0], in[1], in[2], 2, 0, 3)
		}},
	)
}

// poolSeparated returns a fill that keeps the pooled cases away from
// kinks: with one input channel, distinct inputs x on the grid 0.04·k +
// 0.02 around 0, one nonzero filter tap (4) per output channel, and the
// bias −4·σ(0.04·m) with m chosen so that about a third of the windows
// have no positive pre-activation (for random placement), the pre-activations z = 4·σ(x) + b of a
// window differ by at least 4·0.04·σ' and lie at least 4·0.02·σ' from 0,
// with σ = tanh (σ' ≥ 0.4 on this grid) when the case feeds tanh(x) to the
// convolution, the identity otherwise: far more than the finite
// differences move them.
func poolSeparated(pool int, tanh bool) func(r *rand.Rand, in []*tensor.Tensor[float64]) {
	return func(r *rand.Rand, in []*tensor.Tensor[float64]) {
		x, w, b := in[0].Data(), in[1].Data(), in[2].Data()
		for i, k := range r.Perm(len(x)) {
			x[i] = 0.04*float64(k-len(x)/2) + 0.02
		}
		taps := len(w) / len(b)
		clear(w)
		first := r.IntN(taps)
		for o := range b {
			w[o*taps+(first+o)%taps] = 4
		}
		// A window of pool² inputs lies below the quantile q with
		// probability q^(pool²) = 1/3.
		q := math.Pow(1.0/3, 1/float64(pool*pool))
		mid := 0.04 * math.Round((q-0.5)*float64(len(x)))
		if tanh {
			mid = math.Tanh(mid)
		}
		for o := range b {
			b[o] = -4 * mid
		}
	}
}

// reluBothSides checks that a ReLU output has zeros (the mask is
// exercised) and positive values, none of them within reach of the finite
// differences' step of the kink.
func reluBothSides(t *testing.T, y *Var[float64]) {
	t.Helper()
	var zero, pos int
	for i, v := range y.Value.Data() {
		switch {
		case v == 0:
			zero++
		case v >= 1e-3:
			pos++
		default:
			t.Fatalf("output %d is %v, within 1e-3 of the kink", i, v)
		}
	}
	if zero == 0 || pos == 0 {
		t.Fatalf("outputs %v: %d zero and %d positive, want both", y.Value.Data(), zero, pos)
	}
}

// TestConv2DReLUMatchesComposition: the fused primitive gives the values,
// input and weight gradients and tangents of MaxPool2D(Activate(Conv2D,
// ReLU)) (or the composition without pooling) bit for bit, and the bias
// gradient to rounding (its sums run in another order), in float32, at
// one and several threads. One input has small integer entries, so that
// pre-activations tie within windows and land on the kink exactly: the
// argmax at ties and the derivative 0 at the kink are checked there.
func TestConv2DReLUMatchesComposition(t *testing.T) {
	defer kernel.SetThreads(0)
	r := rand.New(rand.NewPCG(20, 21))
	n := 2*convGroup + 3
	normal := func(shape ...int) *tensor.Tensor[float32] {
		v := tensor.New[float32](shape...)
		for i := range v.Data() {
			v.Data()[i] = float32(r.NormFloat64())
		}
		return v
	}
	integer := func(shape ...int) *tensor.Tensor[float32] {
		v := tensor.New[float32](shape...)
		for i := range v.Data() {
			v.Data()[i] = float32(r.IntN(3) - 1)
		}
		return v
	}
	for _, c := range []struct {
		name                  string
		fill                  func(shape ...int) *tensor.Tensor[float32]
		oc, stride, pad, pool int
	}{
		{"wide", normal, 4, 1, 0, 0},
		{"wide pool 2", normal, 4, 1, 0, 2},
		{"wide pool 2, ties", integer, 4, 1, 0, 2},
		{"stride 2 padding 1", normal, 4, 2, 1, 0},
		{"padding 1 pool 3, ties", integer, 4, 1, 1, 3},
		// 16 channels: the products are computed transposed.
		{"16 channels, wide", normal, 16, 1, 0, 0},
		{"16 channels, wide pool 2, ties", integer, 16, 1, 0, 2},
		{"17 channels, stride 2 padding 1 pool 3", normal, 17, 2, 1, 3},
		// 2×2 pooling of 17 channels: the kernels' blocks of 16 overlap.
		{"17 channels, wide pool 2, ties", integer, 17, 1, 0, 2},
	} {
		if tolBLAS != 0 && strings.Contains(c.name, "ties") {
			continue // which of two tied maxima wins depends on the last bit
		}
		x, w, b := NewParam("x", c.fill(n, 3, 9, 8)), NewParam("w", c.fill(c.oc, 3, 3, 3)), NewParam("b", c.fill(c.oc))
		params := []*Var[float32]{x, w, b}
		dirs := []*tensor.Tensor[float32]{normal(n, 3, 9, 8), normal(c.oc, 3, 3, 3), normal(c.oc)}
		var rt *tensor.Tensor[float32]
		type result struct {
			y, gx, gw, gb, d1, d2 []float32
			jet                   [3]float64
		}
		run := func(fused bool, threads int) result {
			kernel.SetThreads(threads)
			tape := &Tape[float32]{}
			// tanh before the convolution gives x a second tangent.
			xa := Activate(tape, x, Act{Kind: Tanh})
			var y *Var[float32]
			if fused {
				y = Conv2DReLU(tape, xa, w, b, c.stride, c.pad, c.pool)
			} else {
				y = Activate(tape, Conv2D(tape, xa, w, b, c.stride, c.pad), Act{Kind: ReLU})
				if c.pool > 0 {
					y = MaxPool2D(tape, y, c.pool, c.pool)
				}
			}
			if rt == nil {
				rt = normal(y.Shape()...)
			}
			f := Sum(tape, Mul(tape, Activate(tape, y, Act{Kind: Tanh}), tape.Const(rt)))
			ZeroGrad(params)
			tape.Backward(f)
			var res result
			res.y = slices.Clone(y.Value.Data())
			res.gx, res.gw, res.gb = slices.Clone(x.Grad.Data()), slices.Clone(w.Grad.Data()), slices.Clone(b.Grad.Data())
			res.jet[0], res.jet[1], res.jet[2] = tape.Jet(f, params, dirs, Hessian)
			res.d1, res.d2 = slices.Clone(y.D1().Data()), slices.Clone(y.D2().Data())
			return res
		}
		want := run(false, 1)
		if !slices.Contains(want.y, 0) || !slices.ContainsFunc(want.y, func(v float32) bool { return v > 0 }) {
			t.Fatalf("%s: the outputs are not both zero and positive: the mask is not exercised", c.name)
		}
		one := run(true, 1)
		for _, threads := range []int{1, 2, 3} {
			got := run(true, threads)
			for _, v := range []struct {
				name      string
				got, want []float32
			}{{"y", got.y, want.y}, {"x̄", got.gx, want.gx}, {"W̄", got.gw, want.gw}, {"ẏ", got.d1, want.d1}, {"ÿ", got.d2, want.d2}} {
				if i := firstDiff(v.got, v.want, tolBLAS); i >= 0 {
					t.Errorf("%s, %d threads: fused %s[%d] = %v, composition %v", c.name, threads, v.name, i, v.got[i], v.want[i])
				}
			}
			// b̄ is a sum of n·OH·OW terms of size about 1 in float32.
			const tolBias = 1e-5
			for o, g := range got.gb {
				if d := math.Abs(float64(g - want.gb[o])); d > tolBias*(1+math.Abs(float64(want.gb[o])))*float64(n) {
					t.Errorf("%s, %d threads: fused b̄[%d] = %v, composition %v", c.name, threads, o, g, want.gb[o])
				}
			}
			if tolBLAS == 0 && !slices.Equal(got.gb, one.gb) {
				t.Errorf("%s, %d threads: b̄ = %v, one thread %v", c.name, threads, got.gb, one.gb)
			}
			for i := range got.jet {
				if d := math.Abs(got.jet[i] - want.jet[i]); d > float64(tolBLAS)*(1+math.Abs(want.jet[i])) || tolBLAS == 0 && d != 0 {
					t.Errorf("%s, %d threads: jet (f, ∇f·u, uᵀHu) = %v, composition %v", c.name, threads, got.jet, want.jet)
					break
				}
			}
		}
	}
}

// tolBLAS is 0 (bit for bit) with this package's GEMM kernels, which sum
// every element of a product and of its transpose in the same order; with
// the openblas build tag, OpenBLAS may not, and the comparisons allow a
// relative 1e-4 (float32 sums of a few dozen terms).
var tolBLAS = map[bool]float32{false: 0, true: 1e-4}[openblas.Available]

// firstDiff returns the first index where a and b differ by more than tol
// relative to 1 + |b| (as numbers: 0 and −0 are equal), or −1.
func firstDiff(a, b []float32, tol float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if d := a[i] - b[i]; d > tol*(1+abs32(b[i])) || -d > tol*(1+abs32(b[i])) {
			return i
		}
	}
	return -1
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestLineCacheConv2DReLU: a Conv2DReLU on the data is kept by LineCache as
// its pre-activation and replayed as max(z + t·ż, 0); the replayed line
// equals a fresh recording at θ + t·u (float64, to rounding) and the node
// counts as affine. A pooled one on the data is recomputed instead.
func TestLineCacheConv2DReLU(t *testing.T) {
	for _, pool := range []int{0, 2} {
		r := rand.New(rand.NewPCG(30, 31))
		x := randTensor(r, 3, 2, 7, 6)
		w, b := NewParam("w", randTensor(r, 4, 2, 3, 3)), NewParam("b", randTensor(r, 4))
		w2 := NewParam("w2", randTensor(r, 2, 4, 2, 2))
		params := []*Var[float64]{w, b, w2}
		dir := []*tensor.Tensor[float64]{randTensor(r, 4, 2, 3, 3), randTensor(r, 4), randTensor(r, 2, 4, 2, 2)}
		tape := &Tape[float64]{}
		var rt *tensor.Tensor[float64]
		record := func() *Var[float64] {
			tape.Reset()
			h := Conv2DReLU(tape, tape.Const(x), w, b, 1, 0, pool)
			y := Activate(tape, Conv2D(tape, h, w2, nil, 1, 0), Act{Kind: Tanh})
			if rt == nil {
				rt = randTensor(r, y.Shape()...)
			}
			return Sum(tape, Mul(tape, y, tape.Const(rt)))
		}
		out := record()
		var c LineCache[float64]
		c.Prepare(tape, out, params, dir)
		if want := 1 - pool/2; c.Affine() != want {
			t.Fatalf("pool %d: %d affine nodes, want %d", pool, c.Affine(), want)
		}
		move := func(s float64) {
			for i, p := range params {
				tensor.Axpy(p.Value, s, dir[i])
			}
		}
		for _, s := range []float64{0.1, -0.05, 0, 0.7} {
			move(s)
			got := c.At(s)
			want := Scalar(record())
			move(-s)
			if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
				t.Errorf("pool %d: line at t = %v: replay %v, recording %v", pool, s, got, want)
			}
		}
	}
}
