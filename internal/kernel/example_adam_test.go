package kernel_test

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

// On Adam's first step the bias-corrected moments are g and g², so the
// direction is g/(|g| + ε): the sign of the gradient, up to ε.
func ExampleAdamDirection() {
	g := []float32{0.5, -2, 0}
	theta := []float32{1, 1, 1}
	u, m, v := make([]float32, 3), make([]float32, 3), make([]float32, 3)
	kernel.AdamDirection(u, m, v, g, theta, kernel.AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 1, GradScale: 1, Mult: 1})
	fmt.Printf("u = %.4f, m = %.4f, v = %.5f\n", u, m, v)
	// Output: u = [1.0000 -1.0000 0.0000], m = [0.0500 -0.2000 0.0000], v = [0.00025 0.00400 0.00000]
}
