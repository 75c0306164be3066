package train

import (
	"fmt"
	"testing"

	"github.com/genopt/gen/data"
	"github.com/genopt/gen/internal/kernel"
)

// BenchmarkStep measures one training step of the 784-256-10 MLP on MNIST
// (batch 128, float32, Adam directions) for each learning-rate rule and
// probe batch, with the forward/backward/jet passes per step. The issue's
// targets are ratios to the const row of the same run:
//
//	go test -run NONE -bench Step -benchtime 400x ./train
func BenchmarkStep(b *testing.B) {
	if _, err := data.LoadMNIST(data.MNISTOptions{}); err != nil {
		b.Skipf("MNIST unavailable: %v", err)
	}
	type variant struct {
		lr, probe string
		every     int
	}
	vs := []variant{{"const:0.001", "fresh", 0}}
	for _, p := range []string{"fresh", "same"} {
		for _, e := range []int{1, 4, 8} {
			vs = append(vs, variant{"gen", p, e})
		}
		vs = append(vs, variant{"gen-exact", p, 1})
	}
	for _, v := range vs {
		name := fmt.Sprintf("lr=%s/probe=%s/every=%d", v.lr, v.probe, v.every)
		b.Run(name, func(b *testing.B) {
			r := warmRunner(b, Config{LR: v.lr, Probe: v.probe, Every: v.every, LR0: 1e-3, Seed: 1, Threads: 1}, 20)
			f0, rp0, bw0, j0 := r.st.Forwards, r.st.Replays, r.st.Backwards, r.st.Jets
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := r.step(false); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(r.st.Forwards-f0)/float64(n), "fwd/step")
			b.ReportMetric(float64(r.st.Replays-rp0)/float64(n), "replay/step")
			b.ReportMetric(float64(r.st.Backwards-bw0)/float64(n), "bwd/step")
			b.ReportMetric(float64(r.st.Jets-j0)/float64(n), "jet/step")
		})
	}
}

// warmRunner builds cfg's float32 runner with cfg.Threads GEMM threads
// (the runner alone does not apply them, Run does; the default comes back
// when tb ends) and takes warm steps, so that its buffers exist.
func warmRunner(tb testing.TB, cfg Config, warm int) *runner[float32] {
	tb.Helper()
	kernel.SetThreads(cfg.Threads)
	tb.Cleanup(func() { kernel.SetThreads(0) })
	r := &runner[float32]{cfg: cfg.Defaults()}
	if err := r.setup(); err != nil {
		tb.Fatal(err)
	}
	for range warm {
		if _, err := r.step(false); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}
