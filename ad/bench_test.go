package ad

import (
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// BenchmarkConv2D times the forward, reverse and jet rules of the second
// convolution of the default CNN (8→16 channels, 3×3, on 26×26 maps) at
// batch 32, float32, ReLU and max pooling of its output: as three
// primitives (unfused) and as one Conv2DReLU (fused).
func BenchmarkConv2D(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	fill := func(shape ...int) *tensor.Tensor[float32] {
		t := tensor.New[float32](shape...)
		for i := range t.Data() {
			t.Data()[i] = float32(r.NormFloat64())
		}
		return t
	}
	x := NewParam("x", fill(32, 8, 26, 26)) // a parameter, so x̄ and ẋ are computed too
	w, bias := NewParam("w", fill(16, 8, 3, 3)), NewParam("b", fill(16))
	params := []*Var[float32]{x, w, bias}
	dirs := []*tensor.Tensor[float32]{fill(32, 8, 26, 26), fill(16, 8, 3, 3), fill(16)}
	for _, fused := range []bool{false, true} {
		tape := &Tape[float32]{}
		record := func() *Var[float32] {
			tape.Reset()
			if fused {
				return Sum(tape, Conv2DReLU(tape, x, w, bias, 1, 0, 2))
			}
			return Sum(tape, MaxPool2D(tape, Activate(tape, Conv2D(tape, x, w, bias, 1, 0), Act{Kind: ReLU}), 2, 2))
		}
		name := map[bool]string{false: "unfused", true: "fused"}[fused]
		b.Run(name+"/forward", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				record()
			}
		})
		b.Run(name+"/backward", func(b *testing.B) {
			f := record()
			b.ReportAllocs()
			for b.Loop() {
				tape.Backward(f)
			}
		})
		b.Run(name+"/jet", func(b *testing.B) {
			f := record()
			b.ReportAllocs()
			for b.Loop() {
				tape.Jet(f, params, dirs, Hessian)
			}
		})
	}
}
