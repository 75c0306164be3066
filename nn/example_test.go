package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// Build the default CNN, record a training step on a batch of two blank
// images, and measure the loss's curvature along the gradient.
func Example() {
	r := rand.New(rand.NewPCG(1, 2))
	model := nn.NewCNN[float64](nn.CNNConfig{}, r)
	for _, p := range nn.Describe(model.Params()) {
		fmt.Println(p.Name, p.Shape)
	}
	fmt.Println("parameters:", nn.NumParams(model.Params()))

	tape := &ad.Tape[float64]{Train: true, Rand: r}
	x := tensor.New[float64](2, 1, 28, 28)
	logits := model.Forward(tape, tape.Const(x))
	f := loss.Record(tape, loss.CE, logits, loss.Labels[float64]([]int{3, 7}))
	params := model.Params()
	ad.ZeroGrad(params)
	tape.Backward(f)
	u := make([]*tensor.Tensor[float64], len(params))
	for i, p := range params {
		u[i] = p.Grad
	}
	_, d1, d2 := tape.Jet(f, params, u, ad.GaussNewton)
	fmt.Println("logits:", logits.Shape(), "slope > 0:", d1 > 0, "uᵀGu ≥ 0:", d2 >= 0)
	// Output:
	// 0.weight [8 1 3 3]
	// 0.bias [8]
	// 2.weight [16 8 3 3]
	// 2.bias [16]
	// 7.weight [64 2304]
	// 7.bias [64]
	// 10.weight [10 64]
	// 10.bias [10]
	// parameters: 149418
	// logits: [2 10] slope > 0: true uᵀGu ≥ 0: true
}
