package train

import (
	"math"
	"testing"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
)

// TestScheduleStepUpdatesInPlace: with a schedule and Adam or AdamW, a step
// applies the update inside the optimizer (optim.Updater; the direction
// buffer is never written), and the run's parameters are the bits of the
// general path — Direction, then θ ← θ − lr·u — which the same schedule
// takes behind a wrapper that hides its type.
func TestScheduleStepUpdatesInPlace(t *testing.T) {
	testScheduleStepUpdatesInPlace[float32](t)
	testScheduleStepUpdatesInPlace[float64](t)
}

func testScheduleStepUpdatesInPlace[T ad.Float](t *testing.T) {
	for _, opt := range []string{"adam", "adamw"} {
		cfg := tiny()
		cfg.Opt, cfg.LR, cfg.ClipNorm = opt, "cosine:0.05", 1
		runs := make([]*runner[T], 2)
		for k := range runs {
			r := &runner[T]{cfg: cfg.Defaults()}
			if err := r.setup(); err != nil {
				t.Fatal(err)
			}
			if _, ok := r.rule.(*gen.Schedule); !ok {
				t.Fatalf("%s: the rule of %q is %T, want *gen.Schedule", opt, cfg.LR, r.rule)
			}
			if k == 1 { // the general path
				r.rule = &spyRule{inner: r.rule, check: func(int, gen.Line) {}}
			}
			for range cfg.Steps {
				if _, err := r.step(false); err != nil {
					t.Fatal(err)
				}
			}
			runs[k] = r
		}
		for i, p := range runs[0].values {
			got, want := p.Data(), runs[1].values[i].Data()
			for j := range got {
				if math.Float64bits(float64(got[j])) != math.Float64bits(float64(want[j])) {
					t.Fatalf("%s, %T: parameter %d[%d] = %v after %d steps, want %v (Direction then the update)", opt, got[j], i, j, got[j], cfg.Steps, want[j])
				}
			}
			for _, x := range runs[0].u[i].Data() {
				if x != 0 {
					t.Fatalf("%s, %T: the direction buffer was written (%v): the step did not update in place", opt, x, x)
				}
			}
		}
	}
}
