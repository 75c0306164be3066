package ad

import (
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// BenchmarkAttention times the forward, reverse and jet rules of one layer
// of the default GPT's attention (ad.CausalSelfAttention on a 768×384 Q|K|V
// projection: 12 sequences of 64 positions, 4 heads of 32) and of one of
// its LayerNorms (768×128), float32, each followed by a weighted sum. The
// backward and jet rows include their forward.
func BenchmarkAttention(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(shape ...int) *tensor.Tensor[float32] {
		t := tensor.New[float32](shape...)
		for i := range t.Data() {
			t.Data()[i] = float32(r.NormFloat64())
		}
		return t
	}
	qkv := NewParam("qkv", fill(768, 384))
	x, g, bias := NewParam("x", fill(768, 128)), NewParam("g", fill(128)), NewParam("b", fill(128))
	w := fill(768, 128)
	tape := &Tape[float32]{}
	cases := []struct {
		name   string
		params []*Var[float32]
		record func() *Var[float32]
	}{
		{"attention", []*Var[float32]{qkv}, func() *Var[float32] { return CausalSelfAttention(tape, qkv, 12, 4, 0.17) }},
		{"layernorm", []*Var[float32]{x, g, bias}, func() *Var[float32] { return LayerNorm(tape, x, g, bias, 1e-5) }},
	}
	for _, c := range cases {
		dirs := make([]*tensor.Tensor[float32], len(c.params))
		for i, p := range c.params {
			dirs[i] = fill(p.Shape()...)
		}
		loss := func() *Var[float32] {
			tape.Reset()
			return Sum(tape, Mul(tape, c.record(), tape.Const(w)))
		}
		b.Run(c.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				tape.Reset()
				c.record()
			}
		})
		b.Run(c.name+"/backward", func(b *testing.B) {
			for b.Loop() {
				tape.Backward(loss())
			}
		})
		b.Run(c.name+"/jet", func(b *testing.B) {
			for b.Loop() {
				tape.Jet(loss(), c.params, dirs, Hessian)
			}
		})
	}
}
