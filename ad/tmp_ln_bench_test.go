package ad

import (
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

func BenchmarkTmpLN(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor.New[float32](768, 128)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	g := tensor.New[float32](128)
	tensor.Fill(g, 1)
	xp, gp, bp := NewParam("x", x), NewParam("g", g), NewParam("b", tensor.New[float32](128))
	tape := &Tape[float32]{}
	w := tensor.New[float32](768, 128)
	for i := range w.Data() {
		w.Data()[i] = float32(r.NormFloat64())
	}
	b.Run("fwd", func(b *testing.B) {
		for b.Loop() {
			tape.Reset()
			LayerNorm(tape, xp, gp, bp, 1e-5)
		}
	})
	b.Run("fwdbwd", func(b *testing.B) {
		for b.Loop() {
			tape.Reset()
			f := Sum(tape, Mul(tape, LayerNorm(tape, xp, gp, bp, 1e-5), tape.Const(w)))
			tape.Backward(f)
		}
	})
}
