package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// TestBackwardFreshMatchesZeroGrad: on writerGraph (parameters written by
// gradWriters — Linear's weights and biases — and added to by
// accumulating rules — LayerNorm's gain and shift), BackwardFresh from
// parameter gradients full of NaN gives the bits of ZeroGrad and Backward,
// in float64 and float32; a parameter the output does not depend on ends
// with a zero gradient; and a later Backward adds to the gradients as it
// does after ZeroGrad and Backward.
func TestBackwardFreshMatchesZeroGrad(t *testing.T) {
	testBackwardFresh[float64](t, 1)
	testBackwardFresh[float32](t, 2)
}

func testBackwardFresh[T Float](t *testing.T, seed uint64) {
	g := newWriterGraph[T](rand.New(rand.NewPCG(12, seed)))
	tape := &Tape[T]{}
	want := g.grads(tape)
	tape.Backward(g.record(tape)) // the reference of a second, accumulating Backward
	var want2 [][]T
	for _, p := range g.params {
		want2 = append(want2, append([]T(nil), p.Grad.Data()...))
	}
	unused := NewParam("unused", tensor.New[T](3))
	params := append(append([]*Var[T](nil), g.params...), unused)
	for _, p := range params {
		tensor.Fill(p.Grad, T(math.NaN()))
	}
	f := g.record(tape)
	poison(tape)
	tape.BackwardFresh(f, params)
	for i, p := range g.params {
		for j, x := range p.Grad.Data() {
			if math.Float64bits(float64(x)) != math.Float64bits(float64(want[i][j])) {
				t.Fatalf("%T: BackwardFresh: gradient of %s[%d] = %v, want %v (ZeroGrad, Backward)", x, p.Name, j, x, want[i][j])
			}
		}
	}
	for j, x := range unused.Grad.Data() {
		if x != 0 || math.Signbit(float64(x)) {
			t.Fatalf("%T: the gradient of a parameter off the tape [%d] = %v, want 0", x, j, x)
		}
	}
	tape.Backward(f) // accumulates, as after ZeroGrad and Backward
	for i, p := range g.params {
		for j, x := range p.Grad.Data() {
			if w := want2[i][j]; math.Float64bits(float64(x)) != math.Float64bits(float64(w)) {
				t.Fatalf("%T: Backward after BackwardFresh: gradient of %s[%d] = %v, want %v", x, p.Name, j, x, w)
			}
		}
	}
}
