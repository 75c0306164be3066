package train

import (
	"math"
	"testing"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// TestForeseenStepUpdatesInPlace: when the rule knows the rate before the
// direction exists (gen.Foresight: every step of a schedule, the lazy steps
// of GeN), a step with Adam or AdamW applies the update inside the optimizer
// (optim.Updater; the direction buffer is not written), and the run's
// parameters are the bits of the general path — Direction, then
// θ ← θ − lr·u — which the same rule takes behind a wrapper that hides it.
func TestForeseenStepUpdatesInPlace(t *testing.T) {
	testForeseenStepUpdatesInPlace[float32](t)
	testForeseenStepUpdatesInPlace[float64](t)
}

func testForeseenStepUpdatesInPlace[T ad.Float](t *testing.T) {
	for _, lr := range []string{"cosine:0.05", "gen"} {
		for _, opt := range []string{"adam", "adamw"} {
			cfg := tiny()
			cfg.Opt, cfg.LR, cfg.ClipNorm, cfg.Steps, cfg.Eager = opt, lr, 1, 24, ptr(2)
			runs := make([]*runner[T], 2)
			fused := 0
			for k := range runs {
				r := &runner[T]{cfg: cfg.Defaults()}
				if err := r.setup(); err != nil {
					t.Fatal(err)
				}
				fs, ok := r.rule.(gen.Foresight)
				if !ok {
					t.Fatalf("%s: the rule %T of %q has no foresight", opt, r.rule, lr)
				}
				if k == 1 { // the general path
					r.rule = &spyRule{inner: r.rule, check: func(int, gen.Line) {}}
				}
				for range cfg.Steps {
					_, ahead := fs.Ahead(r.st.Step)
					if k == 0 && ahead {
						for _, u := range r.u {
							tensor.Zero(u)
						}
					}
					if _, err := r.step(false); err != nil {
						t.Fatal(err)
					}
					if k == 0 && ahead {
						fused++
						for _, u := range r.u {
							for _, x := range u.Data() {
								if x != 0 {
									t.Fatalf("%s %s, %T: the direction buffer was written (%v) on a foreseen step", lr, opt, x, x)
								}
							}
						}
					}
				}
				runs[k] = r
			}
			if min := map[string]int{"gen": cfg.Steps / 2, "cosine:0.05": cfg.Steps}[lr]; fused < min {
				t.Errorf("%s %s: %d of %d steps updated in place, want at least %d", lr, opt, fused, cfg.Steps, min)
			}
			for i, p := range runs[0].values {
				got, want := p.Data(), runs[1].values[i].Data()
				for j := range got {
					if math.Float64bits(float64(got[j])) != math.Float64bits(float64(want[j])) {
						t.Fatalf("%s %s, %T: parameter %d[%d] = %v after %d steps, want %v (Direction then the update)", lr, opt, got[j], i, j, got[j], cfg.Steps, want[j])
					}
				}
			}
		}
	}
}
