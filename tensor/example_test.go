package tensor_test

import (
	"fmt"

	"github.com/genopt/gen/tensor"
)

// A linear layer's forward product y = x·Wᵀ + b on a batch of two rows.
func Example() {
	x := tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	w := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2) // 3 outputs × 2 inputs
	b := tensor.FromSlice([]float32{0.5, 0, -1}, 3)
	y := tensor.New[float32](2, 3)
	tensor.MatMul(y, x, w, false, true, 1, 0)
	tensor.AddRowVector(y, y, b)
	fmt.Println(y.Shape(), y.Data())
	// Output: [2 3] [1.5 2 2 3.5 4 6]
}
