package train

import (
	"fmt"
	"testing"
)

// BenchmarkGPTStep measures one constant-learning-rate training step
// (batch assembly, forward, backward, AdamW, update) of the default
// `--data text --model gpt` (4 layers, 4 heads, width 128, context 64,
// batch 12 = 768 tokens), float32, at one and two GEMM threads: the "ours"
// side of scripts/gpt-vs-torch without process start-up. cpu-ns/op is the
// process's CPU time per step.
//
//	GOMAXPROCS=1 go test -run NONE -bench GPTStep/threads=1 -benchtime 40x ./train
func BenchmarkGPTStep(b *testing.B) {
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			benchSteps(b, Config{Data: "text", Model: "gpt", LR: "const:0.001", Seed: 1, Threads: threads}, 3)
		})
	}
}
