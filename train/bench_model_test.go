package train

import (
	"fmt"
	"testing"

	"github.com/genopt/gen/data"
)

// BenchmarkModelStep measures one constant-learning-rate training step
// (batch assembly, forward, backward, Adam, update) of the default `mlp`
// (784-256-10 ReLU) and `cnn` models on MNIST, batch 128, float32, at one
// and two GEMM threads: the "ours" side of scripts/bench-torch, which times
// the same steps in PyTorch.
//
//	go test -run NONE -bench ModelStep -benchtime 50x ./train
func BenchmarkModelStep(b *testing.B) {
	if _, err := data.LoadMNIST(data.MNISTOptions{}); err != nil {
		b.Skipf("MNIST unavailable: %v", err)
	}
	for _, model := range []string{"mlp", "cnn"} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("model=%s/threads=%d", model, threads), func(b *testing.B) {
				benchSteps(b, Config{Model: model, LR: "const:0.001", Seed: 1, Threads: threads}, 5)
			})
		}
	}
}

// benchSteps times the training step of cfg after warm steps, reporting
// allocations and the process's CPU time per step (cpu-ns/op, all threads).
func benchSteps(b *testing.B, cfg Config, warm int) {
	r := warmRunner(b, cfg, warm)
	b.ReportAllocs()
	cpu0, n := processCPU(), 0
	for b.Loop() {
		if _, err := r.step(false); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
}
