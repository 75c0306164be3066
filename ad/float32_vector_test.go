package ad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/tensor"
)

// TestFloat32VectorRules: the float32 rules that run vector kernels —
// ReLU's forward and reverse (kernel.ReLURows32, ReLUGradRows32), the
// reverse of Dropout (kernel.MulAdd32; where x ≠ 0, which shows the mask) and of Reshape (kernel.Axpy) — give
// the elementwise definitions bit for bit, on a length with a tail past
// the vector blocks and with exact zeros and ties at the kink:
//
//	y = max(x, 0), x̄ = [x > 0]·ȳ;  Dropout: x̄ = m·ȳ with m = y/x;  Reshape: x̄ = ȳ
//
// (each gradient added to a zero buffer, as Backward does).
func TestFloat32VectorRules(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	const n = 16*7 + 5
	x := tensor.New[float32](n)
	for i := range x.Data() {
		x.Data()[i] = float32(r.IntN(5)-2) * 0.5 // exact zeros, both signs
		if i%3 == 0 {
			x.Data()[i] = float32(r.NormFloat64())
		}
	}
	x.Data()[1] = float32(math.Copysign(0, -1))
	rt := tensor.New[float32](n)
	for i := range rt.Data() {
		rt.Data()[i] = float32(r.NormFloat64())
	}
	for _, rule := range []string{"relu", "dropout", "reshape"} {
		xv := NewParam("x", x)
		tape := &Tape[float32]{Train: true, Rand: rand.New(rand.NewPCG(1, 2))}
		var y *Var[float32]
		switch rule {
		case "relu":
			y = Activate(tape, xv, Act{Kind: ReLU})
		case "dropout":
			y = Dropout(tape, xv, 0.5)
		case "reshape":
			y = Reshape(tape, xv, n/3, -1)
		}
		ZeroGrad([]*Var[float32]{xv})
		tape.Backward(Sum(tape, Mul(tape, y, tape.Const(rt.Reshape(y.Shape()...)))))
		for i, xi := range x.Data() {
			yi, g := y.Value.Data()[i], xv.Grad.Data()[i]
			var wantY, wantG float32
			switch rule {
			case "relu":
				wantY = max(xi, 0)
				step := float32(0)
				if xi > 0 {
					step = 1
				}
				wantG = 0 + step*rt.Data()[i]
			case "dropout":
				if xi == 0 {
					continue // the mask is not seen in y
				}
				m := float32(2) // 1/(1−p)
				if yi == 0 {
					m = 0
				}
				wantY, wantG = xi*m, 0+rt.Data()[i]*m
			case "reshape":
				wantY, wantG = xi, 0+rt.Data()[i]
			}
			if math.Float32bits(yi) != math.Float32bits(wantY) || math.Float32bits(g) != math.Float32bits(wantG) {
				t.Fatalf("%s: element %d (x = %v): y = %v, x̄ = %v; want %v, %v", rule, i, xi, yi, g, wantY, wantG)
			}
		}
	}
}
