package ad_test

import (
	"fmt"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Record f(w) = ‖w‖²·x − y, take its gradient, and replay the tape along
// u = ∇f to get the line's slope and curvature and the GeN step
// α* = (∇f·u)/(uᵀHu).
func Example() {
	w := ad.NewParam("w", tensor.FromSlice([]float64{1, 2}, 2))
	const x, y = 0.5, 1.0
	tape := &ad.Tape[float64]{}
	f := ad.Sub(tape, ad.Scale(tape, ad.Sum(tape, ad.Mul(tape, w, w)), x), tape.Const(tensor.Scalar(y)))
	params := []*ad.Var[float64]{w}
	ad.ZeroGrad(params)
	tape.Backward(f)
	fmt.Println("∇f =", w.Grad.Data())
	f0, d1, d2 := tape.Jet(f, params, []*tensor.Tensor[float64]{w.Grad}, ad.Hessian)
	fmt.Printf("f = %g, ∇f·u = %g, uᵀHu = %g, α* = %g\n", f0, d1, d2, d1/d2)
	// Output:
	// ∇f = [1 2]
	// f = 1.5, ∇f·u = 5, uᵀHu = 5, α* = 1
}
