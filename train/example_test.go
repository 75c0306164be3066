package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genopt/gen/train"
)

// Training exact GeN on SGD directions on the source text's author's
// synthetic regression demo, writing the run into a directory.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "gen-example")
	defer os.RemoveAll(dir)
	cfg := train.Config{Data: "synthetic", Hidden: []int{64, 32}, Opt: "sgd", LR: "gen-exact", Epochs: 20, Seed: 1}
	sum, err := train.Run(context.Background(), cfg, filepath.Join(dir, "run"), train.Hooks{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = os.Stat(filepath.Join(sum.RunDir, "checkpoint", "weights.safetensors"))
	fmt.Printf("%d steps, loss below 0.1: %v, checkpoint written: %v\n", sum.Steps, sum.TrainLoss < 0.1, err == nil)
	// Output: 640 steps, loss below 0.1: true, checkpoint written: true
}
