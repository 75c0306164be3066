package kernel_test

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

// C = A·B for a 2×3 A and a 3×2 B, then C = σ(C + bias) with ReLU.
func Example() {
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, -1}
	c := make([]float32, 4)
	kernel.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	kernel.BiasActivate(kernel.ActReLU, 0, c, c, []float32{0, -1})
	fmt.Println(c)
	// Output:
	// [4 -1 10 -1]
	// [4 0 10 0]
}
