package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// The float32 paths of the transformer primitives (vector exponentials,
// row sums as dot products, elementwise terms in float32) agree with the
// float64 rules on the same float32-representable inputs: the output, the
// gradient and both jet tangents of the output, each within 2e-5 of its
// largest magnitude (float32 rounding through a few dozen operations).
// The LayerNorm case has rows with mean 300 times their spread, where the
// float32 variance x·x − μ·Σx cancels most.
func TestFloat32PathsMatchFloat64(t *testing.T) {
	cases := []struct {
		name    string
		shapes  [][]int
		offset  float64 // added to the first input
		build   func(tape *Tape[float64], in []*Var[float64]) *Var[float64]
		build32 func(tape *Tape[float32], in []*Var[float32]) *Var[float32]
	}{
		{"LayerNorm", [][]int{{24, 40}, {40}, {40}}, 0,
			func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				return LayerNorm(t, in[0], in[1], in[2], 1e-5)
			},
			func(t *Tape[float32], in []*Var[float32]) *Var[float32] {
				return LayerNorm(t, in[0], in[1], in[2], 1e-5)
			}},
		{"LayerNorm-offset", [][]int{{24, 40}, {40}, {40}}, 300,
			func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				return LayerNorm(t, in[0], in[1], in[2], 1e-5)
			},
			func(t *Tape[float32], in []*Var[float32]) *Var[float32] {
				return LayerNorm(t, in[0], in[1], in[2], 1e-5)
			}},
		{"Softmax-causal", [][]int{{3, 37, 37}}, 0,
			func(t *Tape[float64], in []*Var[float64]) *Var[float64] { return Softmax(t, in[0], 1.7, true) },
			func(t *Tape[float32], in []*Var[float32]) *Var[float32] { return Softmax(t, in[0], 1.7, true) }},
		{"CausalSelfAttention", [][]int{{2 * 37, 18}}, 0,
			func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				return CausalSelfAttention(t, in[0], 2, 2, 0.6)
			},
			func(t *Tape[float32], in []*Var[float32]) *Var[float32] {
				return CausalSelfAttention(t, in[0], 2, 2, 0.6)
			}},
		{"GELU", [][]int{{50, 33}}, 0,
			func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				return Activate(t, Mul(t, in[0], in[0]), Act{Kind: GELU})
			},
			func(t *Tape[float32], in []*Var[float32]) *Var[float32] {
				return Activate(t, Mul(t, in[0], in[0]), Act{Kind: GELU})
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			var p64 []*Var[float64]
			var p32 []*Var[float32]
			var d64 []*tensor.Tensor[float64]
			var d32 []*tensor.Tensor[float32]
			for i, s := range c.shapes {
				v32, u32 := tensor.New[float32](s...), tensor.New[float32](s...)
				for j := range v32.Data() {
					x := r.NormFloat64()
					if i == 0 {
						x += c.offset
					}
					v32.Data()[j], u32.Data()[j] = float32(x), float32(r.NormFloat64())
				}
				v64, u64 := tensor.New[float64](s...), tensor.New[float64](s...)
				for j := range v64.Data() {
					v64.Data()[j], u64.Data()[j] = float64(v32.Data()[j]), float64(u32.Data()[j])
				}
				p64, p32 = append(p64, NewParam("p", v64)), append(p32, NewParam("p", v32))
				d64, d32 = append(d64, u64), append(d32, u32)
			}
			var w64 *tensor.Tensor[float64]
			var w32 *tensor.Tensor[float32]
			// The float64 run.
			t64 := &Tape[float64]{}
			y64 := c.build(t64, p64)
			w64, w32 = tensor.New[float64](y64.Shape()...), tensor.New[float32](y64.Shape()...)
			for j := range w64.Data() {
				w32.Data()[j] = float32(r.NormFloat64())
				w64.Data()[j] = float64(w32.Data()[j])
			}
			f64 := Sum(t64, Mul(t64, y64, t64.Const(w64)))
			t64.Backward(f64)
			t64.Jet(f64, p64, d64, Hessian)
			// The float32 run.
			t32 := &Tape[float32]{}
			y32 := c.build32(t32, p32)
			f32 := Sum(t32, Mul(t32, y32, t32.Const(w32)))
			t32.Backward(f32)
			t32.Jet(f32, p32, d32, Hessian)
			near := func(what string, a []float64, b []float32) {
				t.Helper()
				var scale float64
				for _, v := range a {
					scale = max(scale, math.Abs(v))
				}
				for i := range a {
					if math.Abs(a[i]-float64(b[i])) > 2e-5*scale {
						t.Fatalf("%s[%d]: float64 %v, float32 %v (scale %v)", what, i, a[i], b[i], scale)
					}
				}
			}
			near("output", y64.Value.Data(), y32.Value.Data())
			for i := range p64 {
				near("gradient", p64[i].Grad.Data(), p32[i].Grad.Data())
			}
			near("first tangent", y64.D1().Data(), y32.D1().Data())
			near("second tangent", y64.D2().Data(), y32.D2().Data())
		})
	}
}
