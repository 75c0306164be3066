package compare

import (
	"context"
	"fmt"
	"math"

	"github.com/genopt/gen/train"
)

// GPTTask is nanoGPT's small-CPU recipe on the built-in Opticks text
// (`gen train --data text --model gpt`: 4 blocks, 4 heads, width 128,
// context 64, batch 12, AdamW directions with weight decay 0.1 and β₂ 0.99)
// for the given number of steps, validation loss measured every steps/8.
// Its methods are not the standard ones (gptMethods): what a transformer's
// user would tune, ranked by the final validation loss.
func GPTTask(steps int) Task {
	return Task{Name: "text-gpt", Metric: Validation,
		Title: "Newton's Opticks, character-level GPT (nanoGPT's small-CPU recipe: 4 blocks, 4 heads, width 128, context 64), batch 12",
		Base:  train.Config{Data: "text", Model: "gpt", Steps: steps, EvalEvery: max(steps/8, 1)},
		// AdamW's constant grid and the peaks of nanoGPT's schedule: the
		// recipe's 1e-3 and a half decade on either side.
		AdamGrid: []float64{3.16e-4, 1e-3, 3.16e-3, 1e-2},
	}
}

// cosineWarmup is nanoGPT's schedule: a linear warm-up over warmup steps,
// then cosine decay from peak to a tenth of it.
func cosineWarmup(peak float64, warmup int) func(*train.Config) {
	return func(c *train.Config) {
		c.Opt, c.LR, c.Warmup = "adamw", fmt.Sprintf("cosine:%g:%g", peak, peak/10), warmup
	}
}

// runGPT runs a GPT task: AdamW's constant grid and nanoGPT's schedule at
// each peak of the grid on the first seed, then on every seed the default
// GeN rule (the gpt model's: approximate GeN in the trust-ratio test),
// exact GeN, AdamW at the grid's best constant and at the best schedule,
// and the learning-rate-free peers that take Adam's place (Prodigy,
// D-Adapt-Adam; with weight decay 0, as published).
func runGPT(ctx context.Context, s Suite, t Task, do func(Method, uint64) (*Result, error), info *TaskInfo) error {
	_, grid := t.grids()
	warmup := min(100, max(t.Base.Steps/20, 1))
	consts, peaks := newGridBest(), newGridBest()
	bestTrain := math.Inf(1)
	for _, lr := range grid {
		for _, sched := range []bool{false, true} {
			m := Method{Name: fmt.Sprintf("AdamW const:%g", lr), Group: "grid", Set: set("adamw", fmt.Sprintf("const:%g", lr))}
			if sched {
				m = Method{Name: fmt.Sprintf("AdamW warm-up + cosine, peak %g", lr), Group: "grid", Set: cosineWarmup(lr, warmup)}
			}
			r, err := do(m, s.Seeds[0])
			if err != nil {
				return err
			}
			bestTrain = min(bestTrain, float64(r.TrainLoss))
			if sched {
				peaks.see(lr, lossOf(r))
			} else {
				consts.see(lr, lossOf(r))
			}
		}
	}
	info.BestAdam, info.Target = consts.rate, 1.05*bestTrain
	noDecay := func(c *train.Config) { c.WeightDecay = 0 }
	main := []Method{
		{"GeN-AdamW (the gpt default)", "main", func(c *train.Config) { c.Opt, c.LR = "adamw", "" }},
		{"GeN-exact-AdamW", "main", set("adamw", "gen-exact")},
		{"AdamW best const", "main", set("adamw", fmt.Sprintf("const:%g", consts.rate))},
		{"AdamW nanoGPT cosine", "main", cosineWarmup(peaks.rate, warmup)},
	}
	if s.Peers {
		main = append(main,
			Method{"Prodigy", "main", set("prodigy", "const:1", noDecay)},
			Method{"D-Adapt-Adam", "main", set("dadapt-adam", "const:1", noDecay)})
	}
	for _, m := range main {
		for _, seed := range s.Seeds {
			if _, err := do(m, seed); err != nil {
				return err
			}
		}
	}
	return nil
}
