package train

import (
	"testing"

	"github.com/genopt/gen/data"
)

// A training step of the default rule (approximate GeN, fresh probes,
// lazy steps and probes alike) allocates nothing once its buffers exist;
// per-layer GeN allocates only the copy of its rates kept in the step's
// record.
func TestDefaultStepDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("MNIST setup")
	}
	if _, err := data.LoadMNIST(data.MNISTOptions{}); err != nil {
		t.Skipf("MNIST unavailable: %v", err)
	}
	for groups, want := range map[string]float64{"all": 0, "layer": 1} {
		r := warmRunner(t, Config{Seed: 1, Threads: 1, Groups: groups}, 20)
		if n := testing.AllocsPerRun(16, func() {
			if _, err := r.step(false); err != nil {
				t.Fatal(err)
			}
		}); n != want {
			t.Errorf("--groups %s: %v allocations per step, want %v", groups, n, want)
		}
	}
}
