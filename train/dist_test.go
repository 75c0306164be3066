package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genopt/gen/data"
	"github.com/genopt/gen/dist"
)

// equivTol is the relative tolerance of the equivalence between N ranks
// and one process: the sums of N shards differ from the sum of one batch by
// the rounding of the partial sums (~1e-16 relative in float64 per step);
// 1e-9 leaves room for 50 steps of GeN feeding the rate back (seen: up to
// 3e-11), and is far below any difference a wrong split, weight or missing
// reduction makes (those change the first step's loss or rate at the 1e-3
// level or more).
const equivTol = 1e-9

// tolFor is the equivalence tolerance of a run: equivTol, except for
// approximate per-layer GeN, whose coupling curvature Cᵢⱼ comes from a
// second difference of losses, (g(aeᵢ+aeⱼ) − g₀ + a·sᵢ + a·sⱼ − …)/a², that
// cancels ~6 of the 16 digits, and whose solve C·α = s amplifies that
// further: the shards' rounding grows from ~1e-12 at the first update to
// 3e-9 at step 22 and 1e-7 at step 37 of the test's run. Its cases run 20
// steps at 1e-7, still far below what a wrong reduction changes (1e-3 at
// the first update).
func tolFor(cfg Config) float64 {
	if cfg.Groups == "layer" && cfg.LR == "gen" {
		return 1e-7
	}
	return equivTol
}

// trajectory runs cfg (float64; the cnn without dropout, whose masks are
// per rank by design) on comm — Local for the single-process reference —
// and returns, per step, the training loss and learning rate, then the
// final test loss.
func trajectory(cfg Config, comm dist.Comm, dir string) ([]float64, error) {
	var out []float64
	r := &runner[float64]{cfg: cfg.Defaults(), dir: dir, comm: comm, noDropout: true, ckptStep: -1}
	sum, err := r.run(context.Background(), false, false, Hooks{Step: func(s StepRecord) { out = append(out, s.Loss, s.LR) }})
	if err != nil {
		return nil, fmt.Errorf("rank %d of %d: %w", comm.Rank(), comm.Size(), err)
	}
	return append(out, float64(sum.TestLoss)), nil
}

// sameTrajectory compares a rank's trajectory with the single process's.
func sameTrajectory(got, ref []float64, c dist.Comm, tol float64) error {
	if len(got) != len(ref) {
		return fmt.Errorf("rank %d: %d values, the single process %d", c.Rank(), len(got), len(ref))
	}
	for i := range got {
		what := [...]string{"loss", "rate"}[i%2]
		if i == len(got)-1 {
			what = "final test loss"
		}
		if d := math.Abs(got[i]-ref[i]) / math.Max(math.Abs(ref[i]), 1e-300); !(d <= tol) {
			return fmt.Errorf("rank %d of %d, step %d %s: got %.17g, one process %.17g (relative difference %.3g > %g)",
				c.Rank(), c.Size(), i/2+1, what, got[i], ref[i], d, tol)
		}
	}
	return nil
}

// TestGroupEquivalence runs the data-parallel trainer on 2 and 3 ranks of an
// in-process group (dist.NewGroup, no MPI) and checks each rank against the
// single process, for the rules whose line is reduced differently: constant
// Adam (gradient only), approximate GeN (values), exact GeN (jet), the
// default rule, per-layer GeN (group values and group jets), and the GPT
// (per-position targets, sharded validation windows). With -short: one case
// of each reduction on 2 ranks. The MPI twin is dist_mpi_test.go.
func TestGroupEquivalence(t *testing.T) {
	base := Config{Data: "synthetic", Hidden: []int{8}, Act: "tanh", Batch: 31, Steps: 40, Seed: 5, Precision: "f64", Threads: 1, DistTimeout: 60}
	gpt := Config{Data: "text", Model: "gpt", Layers: 1, Heads: 2, Embed: 8, Context: 8, Batch: 6, Steps: 12, EvalEvery: 6, Seed: 5, Precision: "f64", Threads: 1, DistTimeout: 60}
	type tc struct {
		name  string
		cfg   Config
		short bool // also in the -short run
	}
	cases := []tc{
		{"const:0.003", with(base, func(c *Config) { c.LR = "const:0.003" }), false},
		{"gen", with(base, func(c *Config) { c.LR = "gen" }), true},
		{"gen-exact", with(base, func(c *Config) { c.LR = "gen-exact" }), true},
		{"the default rule", with(base, func(c *Config) { c.LR = "" }), false},
		// Eager 0: the probes of every step would solve C·α = s 10 times
		// more in the first steps, and the rounding tolFor describes grows
		// with each solve; what is tested is the reduction, not eager probing.
		{"gen per layer", with(base, func(c *Config) {
			c.LR, c.Groups, c.Hidden, c.Steps, c.Eager = "gen", "layer", []int{8, 4}, 20, ptr(0)
		}), true},
		{"gen-exact per layer", with(base, func(c *Config) { c.LR, c.Groups = "gen-exact", "layer" }), false},
		{"gpt, the default rule", with(gpt, func(c *Config) { c.LR = "" }), true},
	}
	sizes := []int{2, 3}
	if testing.Short() { // the race detector's run (.ci/run)
		sizes = []int{2}
	}
	for _, tc := range cases {
		if testing.Short() && !tc.short {
			continue
		}
		cfg := tc.cfg
		ref, err := trajectory(cfg, dist.Local{}, filepath.Join(t.TempDir(), "one"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range sizes {
			dir := filepath.Join(t.TempDir(), "group")
			got := make([][]float64, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for r, c := range dist.NewGroup(n, dist.Options{Timeout: time.Minute}) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if got[r], errs[r] = trajectory(cfg, c, dir); errs[r] == nil {
						errs[r] = sameTrajectory(got[r], ref, c, tolFor(cfg))
					}
				}()
			}
			wg.Wait()
			for r := range n {
				if errs[r] != nil {
					t.Errorf("%s, %d ranks: %v", tc.name, n, errs[r])
				} else if !slices.Equal(got[r], got[0]) {
					t.Errorf("%s, %d ranks: rank %d's trajectory is not bit for bit rank 0's", tc.name, n, r)
				}
			}
		}
	}
}

// with returns c changed by f.
func with(c Config, f func(*Config)) Config {
	f(&c)
	return c
}

// rankOf is a stand-in communicator that reports a rank and a size; its
// collectives are Local's (the tests here call none).
type rankOf struct {
	dist.Local
	rank, size int
}

func (c rankOf) Rank() int { return c.rank }
func (c rankOf) Size() int { return c.size }

// TestSpan: the shards of every batch size cover its rows once, in order,
// and differ in size by at most one.
func TestSpan(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for size := 1; size <= n; size++ {
			next := 0
			for r := range size {
				lo, hi := span(n, r, size)
				if lo != next || hi < lo || hi-lo < n/size || hi-lo > n/size+1 {
					t.Fatalf("span(%d, %d, %d) = [%d, %d), after the previous shard ended at %d", n, r, size, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("the %d shards of %d rows end at %d", size, n, next)
			}
		}
	}
}

// TestReseed: the dropout streams of a step differ across ranks, between
// the training and probe tapes and from step to step, and are the same
// every time the same (rank, step) is drawn.
func TestReseed(t *testing.T) {
	draw := func(rank, step int) (train, probe uint64) {
		r := &runner[float32]{cfg: Config{Seed: 9}, comm: rankOf{rank: rank, size: 2},
			trainPCG: rand.NewPCG(0, 0), probePCG: rand.NewPCG(0, 0)}
		r.st.Step = step
		r.reseed()
		return r.trainPCG.Uint64(), r.probePCG.Uint64()
	}
	seen := map[uint64]string{}
	for rank := range 2 {
		for step := range 3 {
			tr, pr := draw(rank, step)
			if tr2, pr2 := draw(rank, step); tr2 != tr || pr2 != pr {
				t.Fatalf("rank %d, step %d: the streams are not reproducible", rank, step)
			}
			for _, v := range []struct {
				x    uint64
				what string
			}{{tr, "train"}, {pr, "probe"}} {
				key := fmt.Sprintf("%s stream of rank %d, step %d", v.what, rank, step)
				if prev, ok := seen[v.x]; ok {
					t.Fatalf("%s draws the same first value as %s", key, prev)
				}
				seen[v.x] = key
			}
		}
	}
}

// TestCheckShards: a batch too small to give every rank an example is
// refused before the run starts, with the batch sizes in the message; an
// epoch's small last batch counts only for a run that reads it.
func TestCheckShards(t *testing.T) {
	set := &data.Set{Name: "toy", X: make([]float32, 10), Shape: []int{1}, Labels: make([]int, 10), Classes: 2}
	for _, tc := range []struct {
		batch, ranks, steps int
		ok                  bool
	}{{4, 2, 0, true}, {5, 2, 0, true}, {4, 3, 0, false}, {3, 3, 0, false}, {10, 3, 0, true}, {1, 2, 0, false},
		{4, 3, 1, true}, {4, 3, 2, false}, {3, 3, 2, true}, {3, 3, 3, false}} {
		r := &runner[float32]{cfg: Config{Batch: tc.batch, Steps: tc.steps}, comm: rankOf{size: tc.ranks}, split: data.Split{Train: set}}
		err := r.checkShards()
		if (err == nil) != tc.ok {
			t.Errorf("10 examples, --batch %d over %d ranks, --steps %d: got %v, want ok = %v", tc.batch, tc.ranks, tc.steps, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--batch") {
			t.Errorf("the error does not name --batch: %v", err)
		}
	}
}
