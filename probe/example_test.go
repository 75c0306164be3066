package probe_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// The line along the gradient of a single linear layer with the source
// text's loss, batch 1: its exact GeN rate is 1/(1 + ‖x‖²).
func Example() {
	r := rand.New(rand.NewPCG(1, 1))
	layer := nn.NewLinear[float64](2, 1, true, nn.KaimingUniform, r)
	x := tensor.FromSlice([]float64{1, 2}, 1, 2) // ‖x‖² = 5
	y := tensor.FromSlice([]float64{3}, 1, 1)
	obj := func(t *ad.Tape[float64]) *ad.Var[float64] {
		return ad.HalfSquaredError(t, layer.Forward(t, t.Const(x)), y)
	}
	var tape ad.Tape[float64]
	loss := obj(&tape)
	tape.Backward(loss)
	params := layer.Params()
	line := probe.New(params, []*tensor.Tensor[float64]{params[0].Grad, params[1].Grad}) // u = ∇f
	line.Reset(&tape, obj, loss)
	_, d1, d2 := line.Jet(ad.Hessian)
	fmt.Printf("α* = %.4f (1/6 = %.4f), forward passes %d\n", -d1/d2, 1.0/6, line.Forwards)
	// Output: α* = 0.1667 (1/6 = 0.1667), forward passes 0
}
