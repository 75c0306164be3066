package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// TestSoftmaxCrossEntropySameBitsAsRows: the forward of
// SoftmaxCrossEntropy, which takes every row's exponentials in one vector
// call, gives the bits of softmaxRow applied row by row — the loss and the
// cached probabilities — on logits of every scale (rows whose shifted
// logits fall below the vector kernel's range included), in float32 and
// float64.
func TestSoftmaxCrossEntropySameBitsAsRows(t *testing.T) {
	testSoftmaxSameBits[float32](t)
	testSoftmaxSameBits[float64](t)
}

func testSoftmaxSameBits[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, scale := range []float64{0.1, 3, 100, 1e4} {
		const m, c = 37, 10
		z := tensor.New[T](m, c)
		labels := make([]int, m)
		for i := range z.Data() {
			z.Data()[i] = T(r.NormFloat64() * scale)
		}
		for i := range labels {
			labels[i] = r.IntN(c)
		}
		tape := &Tape[T]{}
		l := SoftmaxCrossEntropy(tape, tape.Const(z), labels)
		op := any(l.op).(*softmaxCEOp[T])
		p := make([]float64, m*c)
		var total float64
		for i := range m {
			row := z.Data()[i*c : (i+1)*c]
			total += softmaxRow(p[i*c:(i+1)*c], row) - float64(row[labels[i]])
		}
		if want := total / m; math.Float64bits(op.v64) != math.Float64bits(want) {
			t.Fatalf("%T, scale %g: loss %v, softmaxRow's %v", T(0), scale, op.v64, want)
		}
		for i := range p {
			if math.Float64bits(op.p[i]) != math.Float64bits(p[i]) {
				t.Fatalf("%T, scale %g: p[%d] = %v, softmaxRow's %v", T(0), scale, i, op.p[i], p[i])
			}
		}
	}
}
