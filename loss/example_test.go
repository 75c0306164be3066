package loss_test

import (
	"fmt"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/tensor"
)

// Select a loss by name and record it on logits of two examples.
func Example() {
	kind, err := loss.Parse("ce")
	if err != nil {
		panic(err)
	}
	logits := ad.NewParam("logits", tensor.FromSlice([]float64{0, 0, 0, 2, 0, 0}, 2, 3))
	tape := &ad.Tape[float64]{}
	l := loss.Record(tape, kind, logits, loss.Labels[float64]([]int{1, 0}))
	tape.Backward(l)
	fmt.Printf("%v classification=%v loss=%.4f\n", kind, kind.Classification(), l.Value.Item())
	fmt.Printf("dL/dlogits row 0: %.4f\n", logits.Grad.Data()[:3])
	_, err = loss.Parse("hinge")
	fmt.Println(err)
	// Output:
	// ce classification=true loss=0.6691
	// dL/dlogits row 0: [0.1667 -0.3333 0.1667]
	// loss: unknown loss "hinge"; valid: mse, half-sq, ce, nll
}
