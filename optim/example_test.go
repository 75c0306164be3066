package optim_test

import (
	"fmt"

	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/tensor"
)

// Adam on f(θ) = ½‖θ‖² with a constant step size α = 0.1: the optimizer
// supplies the direction u, the caller applies θ ← θ − α·u. By hand, step 2
// for the first coordinate: g = 0.9, m = 0.18, v = 0.001809, m̂ = 0.18/0.19,
// v̂ = 0.001809/0.001999, u = m̂/√v̂ = 0.99588.
func Example() {
	opt, err := optim.New[float64]("adam", optim.Common{})
	if err != nil {
		panic(err)
	}
	theta := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{1, -2}, 2)}
	grad := []*tensor.Tensor[float64]{tensor.New[float64](2)}
	u := []*tensor.Tensor[float64]{tensor.New[float64](2)}
	for step := 1; step <= 3; step++ {
		tensor.Copy(grad[0], theta[0]) // ∇f(θ) = θ
		opt.Direction(u, theta, grad)
		tensor.Axpy(theta[0], -0.1, u[0])
		fmt.Printf("step %d: u = [%.4f %.4f], θ = [%.4f %.4f]\n", step,
			u[0].Data()[0], u[0].Data()[1], theta[0].Data()[0], theta[0].Data()[1])
	}
	fmt.Println("state after", opt.State().Step, "steps has buffers m and v:", len(opt.State().Buffers))
	// Output:
	// step 1: u = [1.0000 -1.0000], θ = [0.9000 -1.9000]
	// step 2: u = [0.9959 -0.9983], θ = [0.8004 -1.8002]
	// step 3: u = [0.9883 -0.9954], θ = [0.7016 -1.7006]
	// state after 3 steps has buffers m and v: 2
}
