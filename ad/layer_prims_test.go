package ad

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/tensor"
)

// Cases of the convolution, pooling, dropout and embedding primitives for
// TestPrimitives. Inputs pass through tanh or a square first, so that the
// primitive sees nonzero first and second tangents.
func init() {
	tanh := Act{Kind: Tanh}
	tokens := []int{3, 0, 3, 1, 4, 4} // two examples of context 3, repeats included
	addCases(
		primCase{name: "conv2DOp/bias-stride2-pad1", shapes: [][]int{{2, 2, 5, 5}, {3, 2, 3, 3}, {3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2D(t, Activate(t, in[0], tanh), in[1], in[2], 2, 1)
		}},
		primCase{name: "conv2DOp/nobias-rect-kernel", shapes: [][]int{{2, 3, 4, 5}, {2, 3, 2, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2D(t, Activate(t, in[0], tanh), in[1], nil, 1, 0)
		}},
		primCase{name: "conv2DOp/bias-wide-layout", shapes: [][]int{{2, 2, 5, 6}, {3, 2, 3, 2}, {3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// Stride 1, no padding: the wide layout of the unfolded input.
			return Conv2D(t, Activate(t, in[0], tanh), in[1], in[2], 1, 0)
		}},
		primCase{name: "conv2DOp/data-input-pad2", shapes: [][]int{{1, 2, 3, 3}, {2, 2, 3, 3}, {2}}, data: []bool{true, false, false}, linear: true, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Conv2D(t, in[0], in[1], in[2], 1, 2)
		}},
		primCase{name: "conv2DOp/weight-squared", shapes: [][]int{{2, 1, 4, 4}, {2, 1, 3, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// ẅ ≠ 0: the weight enters through w⊙w.
			return Conv2D(t, in[0], Mul(t, in[1], in[1]), nil, 1, 1)
		}},
		primCase{name: "maxPoolOp/2x2", shapes: [][]int{{2, 2, 4, 5}}, fill: separated, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return MaxPool2D(t, Mul(t, in[0], in[0]), 2, 2)
		}},
		primCase{name: "maxPoolOp/3x3-overlapping", shapes: [][]int{{1, 2, 5, 5}}, fill: separated, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return MaxPool2D(t, Mul(t, in[0], in[0]), 3, 1)
		}},
		primCase{name: "dropoutOp/train-replay", shapes: [][]int{{4, 5}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			// The first recording draws the mask; every re-evaluation of the
			// checks replays it, so finite differences see one function.
			t.Train = true
			if t.Rand == nil {
				t.Rand = rand.New(rand.NewPCG(1, 2))
			}
			y := Dropout(t, Mul(t, in[0], in[0]), 0.4)
			t.ReplayRandom = true
			return y
		}},
		primCase{name: "dropoutOp/eval", shapes: [][]int{{3, 2}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Dropout(t, Mul(t, in[0], in[0]), 0.5)
		}},
		primCase{name: "embeddingOp", shapes: [][]int{{5, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Embedding(t, Mul(t, in[0], in[0]), tokens, 3)
		}},
	)
}

// separated fills the inputs with distinct positive values at least 0.2
// apart in random order, so that no pooling window has near-ties that a
// finite-difference step could swap.
func separated(r *rand.Rand, in []*tensor.Tensor[float64]) {
	for _, x := range in {
		perm := r.Perm(x.Len())
		for i, k := range perm {
			x.Data()[i] = 0.5 + 0.2*float64(k)
		}
	}
}

// naiveConv is the definition of Conv2D as nested loops (float64).
func naiveConv(x, w, b *tensor.Tensor[float64], stride, pad int) []float64 {
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	oc, kh, kw := w.Dim(0), w.Dim(2), w.Dim(3)
	oh, ow := (h+2*pad-kh)/stride+1, (wd+2*pad-kw)/stride+1
	out := make([]float64, 0, n*oc*oh*ow)
	for in := range n {
		for o := range oc {
			for i := range oh {
				for j := range ow {
					s := 0.0
					if b != nil {
						s = b.Data()[o]
					}
					for ci := range c {
						for p := range kh {
							for q := range kw {
								hi, wi := i*stride+p-pad, j*stride+q-pad
								if hi >= 0 && hi < h && wi >= 0 && wi < wd {
									s += w.At(o, ci, p, q) * x.At(in, ci, hi, wi)
								}
							}
						}
					}
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor[float64] {
	t := tensor.New[float64](shape...)
	for i := range t.Data() {
		t.Data()[i] = r.NormFloat64()
	}
	return t
}

// TestConv2DForward compares the im2col path against the nested loops of
// the definition.
func TestConv2DForward(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		x, w        []int
		stride, pad int
		bias        bool
	}{
		{[]int{2, 3, 7, 6}, []int{4, 3, 3, 3}, 1, 0, true},
		{[]int{1, 1, 5, 5}, []int{2, 1, 3, 3}, 2, 1, false},
		{[]int{3, 2, 6, 7}, []int{5, 2, 2, 4}, 3, 2, true},
		{[]int{1, 2, 2, 2}, []int{1, 2, 1, 1}, 1, 0, false},
		{[]int{2, 1, 2, 3}, []int{2, 1, 2, 2}, 1, 3, true}, // whole rows and columns of padding
		{[]int{1, 2, 7, 7}, []int{3, 2, 1, 1}, 2, 0, true},
		{[]int{1, 1, 9, 8}, []int{1, 1, 5, 4}, 3, 1, false},
	} {
		x, w := randTensor(r, c.x...), randTensor(r, c.w...)
		var b *tensor.Tensor[float64]
		tape := &Tape[float64]{}
		var bv *Var[float64]
		if c.bias {
			b = randTensor(r, c.w[0])
			bv = tape.Const(b)
		}
		y := Conv2D(tape, tape.Const(x), tape.Const(w), bv, c.stride, c.pad)
		want := naiveConv(x, w, b, c.stride, c.pad)
		// Tolerance: both sum the same ≤ 50 products in another order.
		const tol = 1e-12
		if len(want) != y.Value.Len() {
			t.Fatalf("Conv2D(x %v, w %v, stride %d, pad %d): %d outputs (shape %v), want %d", c.x, c.w, c.stride, c.pad, y.Value.Len(), y.Shape(), len(want))
		}
		for i, v := range y.Value.Data() {
			if abs(v-want[i]) > tol {
				t.Fatalf("Conv2D(x %v, w %v, stride %d, pad %d): output %d is %v, want %v", c.x, c.w, c.stride, c.pad, i, v, want[i])
			}
		}
	}
}

// TestMaxPoolTies checks the kink convention: tied maxima route the
// gradient to the first in row-major order.
func TestMaxPoolTies(t *testing.T) {
	x := NewParam("x", tensor.FromSlice([]float64{
		1, 5, 5, 0,
		5, 2, 3, 5,
		0, 0, 7, 7,
		0, 0, 7, 7,
	}, 1, 1, 4, 4))
	tape := &Tape[float64]{}
	y := MaxPool2D(tape, x, 2, 2)
	if got, want := y.Value.Data(), []float64{5, 5, 0, 7}; !slices.Equal(got, want) {
		t.Fatalf("MaxPool2D values %v, want %v", got, want)
	}
	ZeroGrad([]*Var[float64]{x})
	tape.Backward(Sum(tape, y))
	want := []float64{
		0, 1, 1, 0,
		0, 0, 0, 0,
		1, 0, 1, 0,
		0, 0, 0, 0,
	}
	if got := x.Grad.Data(); !slices.Equal(got, want) {
		t.Errorf("MaxPool2D gradient with ties %v, want the first maximum of each window %v", got, want)
	}
}

// TestDropoutReplay: with ReplayRandom a re-evaluation sees the mask drawn
// by the previous recording, without it a new mask is drawn, out of training the
// op is the identity, and the jet multiplies by the recorded mask.
func TestDropoutReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := NewParam("x", tensor.New[float64](10, 30))
	tensor.Fill(x.Value, 1)
	tape := &Tape[float64]{Train: true, Rand: r}
	const p = 0.3
	first := Dropout(tape, x, p).Value.Clone()
	kept := 0
	for _, v := range first.Data() {
		switch v {
		case 0:
		case 1 / (1 - p):
			kept++
		default:
			t.Fatalf("dropout of ones gave %v, want 0 or %v", v, 1/(1-p))
		}
	}
	// 300 Bernoulli(0.7) draws: mean 210, sd ≈ 7.9; ±40 is five sd.
	if kept < 170 || kept > 250 {
		t.Errorf("dropout kept %d of 300, want about 210", kept)
	}
	tape.Reset()
	tape.ReplayRandom = true
	tensor.Fill(x.Value, 2)
	again := Dropout(tape, x, p)
	for i, v := range again.Value.Data() {
		if v != 2*first.Data()[i] {
			t.Fatalf("replayed dropout element %d is %v, want 2×%v", i, v, first.Data()[i])
		}
	}
	// The jet along u = ones uses the recorded mask: ḟ = Σ m.
	out := Sum(tape, again)
	dir := tensor.New[float64](10, 30)
	tensor.Fill(dir, 1)
	_, d1, d2 := tape.Jet(out, []*Var[float64]{x}, []*tensor.Tensor[float64]{dir}, Hessian)
	if want := tensor.Sum(first); abs(d1-want) > 1e-9 || d2 != 0 {
		t.Errorf("jet through dropout (%v, %v), want (%v, 0)", d1, d2, want)
	}
	tape.Reset()
	tape.ReplayRandom = false
	fresh := Dropout(tape, x, p)
	same := true
	for i, v := range fresh.Value.Data() {
		same = same && v == 2*first.Data()[i]
	}
	if same {
		t.Error("a recording without ReplayRandom reused the previous mask")
	}
	tape.Reset()
	tape.Train = false
	if y := Dropout(tape, x, p); !slices.Equal(y.Value.Data(), x.Value.Data()) {
		t.Error("dropout out of training is not the identity")
	}
}

func TestDropoutReplayWithoutMaskPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("replaying a mask that was never drawn did not panic")
		}
	}()
	tape := &Tape[float64]{Train: true, ReplayRandom: true, Rand: rand.New(rand.NewPCG(1, 1))}
	Dropout(tape, tape.Const(tensor.New[float64](2, 2)), 0.5)
}

// TestDropoutReplayAfterEvaluation: replay reuses the last mask drawn at the
// position, and a recording in between that draws none (evaluation mode)
// leaves it in place, as Dropout's doc says.
func TestDropoutReplayAfterEvaluation(t *testing.T) {
	x := NewParam("x", tensor.New[float64](4, 25))
	tensor.Fill(x.Value, 1)
	tape := &Tape[float64]{Train: true, Rand: rand.New(rand.NewPCG(8, 8))}
	const p = 0.5
	drawn := Dropout(tape, x, p).Value.Clone()

	tape.Reset()
	tape.Train = false
	if y := Dropout(tape, x, p); !slices.Equal(y.Value.Data(), x.Value.Data()) {
		t.Fatal("dropout out of training is not the identity")
	}

	tape.Reset()
	tape.Train, tape.ReplayRandom = true, true
	if y := Dropout(tape, x, p); !slices.Equal(y.Value.Data(), drawn.Data()) {
		t.Errorf("replay after an evaluation recording gave %v, want the training mask %v", y.Value.Data(), drawn.Data())
	}
}
