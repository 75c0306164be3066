package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/tensor"
)

// Save a checkpoint of a one-layer model with its learning-rate state, then
// restore it into a fresh model, as a resumed run does.
func Example() {
	root, err := os.MkdirTemp("", "checkpoint-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	type rule struct{ LR float64 }
	params := []*ad.Var[float32]{
		ad.NewParam("0.weight", tensor.FromSlice([]float32{0.5, -1, 2, 0.25}, 2, 2)),
		ad.NewParam("0.bias", tensor.FromSlice([]float32{0.1, -0.1}, 2)),
	}
	err = checkpoint.Save(filepath.Join(root, "step-100"), checkpoint.State[float32]{
		Step:   100,
		Params: params,
		Rule:   rule{LR: 0.03},
	})
	if err != nil {
		log.Fatal(err)
	}

	dir, _, err := checkpoint.Latest(root)
	if err != nil {
		log.Fatal(err)
	}
	var r rule
	fresh := checkpoint.State[float32]{
		Params: []*ad.Var[float32]{
			ad.NewParam("0.weight", tensor.New[float32](2, 2)),
			ad.NewParam("0.bias", tensor.New[float32](2)),
		},
		Rule: &r,
	}
	if _, err := checkpoint.Load(dir, &fresh); err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(dir), fresh.Step, r.LR)
	fmt.Println(fresh.Params[0].Value.Data(), fresh.Params[1].Value.Data())

	tensors, _, err := checkpoint.ReadFile(filepath.Join(dir, checkpoint.WeightsFile))
	if err != nil {
		log.Fatal(err)
	}
	w := tensors["0.weight"]
	fmt.Println(w.DType, w.Shape)
	// Output:
	// step-100 100 0.03
	// [0.5 -1 2 0.25] [0.1 -0.1]
	// F32 [2 2]
}
