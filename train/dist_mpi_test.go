//go:build mpi

// The data-parallel equivalence tests. They run under mpirun:
//
//	go test -tags mpi -c -o train-mpi.test ./train
//	mpirun -np 2 --oversubscribe train-mpi.test -test.run Dist
//
// (as root, add --allow-run-as-root). Started without mpirun, MPI makes a
// world of one rank, and they check that one rank is the plain run.
package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/genopt/gen/dist"
)

func TestMain(m *testing.M) {
	if _, err := dist.Open("mpi", dist.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := dist.Finalize(code != 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func TestDistEquivalence(t *testing.T) {
	world, err := dist.Open("mpi", dist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mlp := Config{Data: "synthetic", Hidden: []int{16}, Act: "tanh", Batch: 31, Steps: 50, Seed: 7, Precision: "f64", Threads: 1, DistTimeout: 300}
	cnn := Config{Model: "cnn", Batch: 9, Steps: 50, Seed: 7, Precision: "f64", Threads: 1, DistTimeout: 300}
	gpt := Config{Data: "text", Model: "gpt", Layers: 1, Heads: 2, Embed: 8, Context: 8, Batch: 6, Steps: 20, EvalEvery: 10, Seed: 7, Precision: "f64", Threads: 1, DistTimeout: 300}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"mlp/adam-const", with(mlp, func(c *Config) { c.LR = "const:0.003" })},
		{"mlp/gen", with(mlp, func(c *Config) { c.LR = "gen" })},
		{"mlp/gen-same", with(mlp, func(c *Config) { c.LR, c.Probe = "gen", "same" })},
		{"mlp/gen-exact", with(mlp, func(c *Config) { c.LR = "gen-exact" })},
		{"mlp/gen-trust (the default rule)", with(mlp, func(c *Config) { c.LR = "" })},
		{"mlp/sps (a Sloper)", with(mlp, func(c *Config) { c.LR, c.Opt = "sps", "sgd" })},
		{"mlp/gen per layer", with(mlp, func(c *Config) { c.LR, c.Groups, c.Hidden, c.Steps = "gen", "layer", []int{16, 8}, 20 })},
		{"mlp/gen-exact per layer", with(mlp, func(c *Config) { c.LR, c.Groups = "gen-exact", "layer" })},
		{"gpt/adamw-const", with(gpt, func(c *Config) { c.LR = "const:0.003" })},
		{"gpt/default rule", with(gpt, func(c *Config) { c.LR = "" })},
		{"cnn/adam-const", with(cnn, func(c *Config) { c.LR = "const:0.001" })},
		{"cnn/gen", with(cnn, func(c *Config) { c.LR = "gen" })},
		{"cnn/gen-exact", with(cnn, func(c *Config) { c.LR = "gen-exact" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Rank 0 runs the single-process reference and sends it to the
			// others, which wait for it (hence the long timeout).
			var ref []float64
			if world.Rank() == 0 {
				if ref, err = trajectory(tc.cfg, dist.Local{}, filepath.Join(t.TempDir(), "one")); err != nil {
					t.Fatal(err)
				}
			}
			n := []float64{float64(len(ref))}
			if _, err := dist.Open("mpi", dist.Options{Timeout: 5 * time.Minute}); err != nil {
				t.Fatal(err)
			}
			if err := world.BroadcastFloat64(n, 0); err != nil {
				t.Fatal(err)
			}
			if world.Rank() != 0 {
				ref = make([]float64, int(n[0]))
			}
			if err := world.BroadcastFloat64(ref, 0); err != nil {
				t.Fatal(err)
			}

			dir := filepath.Join(os.TempDir(), fmt.Sprintf("gen-dist-%d-%s", os.Getpid(), filepath.Base(tc.name)))
			defer os.RemoveAll(dir)
			got, err := trajectory(tc.cfg, world, dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameTrajectory(got, ref, world, tolFor(tc.cfg)); err != nil {
				t.Fatal(err)
			}
			// The replicas move in lockstep: every rank holds the same bits,
			// so the sum over ranks is exactly Size times this rank's value.
			sum := append([]float64(nil), got...)
			if err := world.SumFloat64(sum); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if sum[i] != float64(world.Size())*got[i] {
					t.Fatalf("rank %d: value %d is %.17g here but the ranks' sum is %.17g: the replicas drifted apart", world.Rank(), i, got[i], sum[i])
				}
			}
			// Rank 0 alone wrote the run directory.
			_, err = os.Stat(filepath.Join(dir, "checkpoint"))
			if world.Rank() == 0 && err != nil {
				t.Fatalf("rank 0 wrote no checkpoint: %v", err)
			}
			if world.Rank() != 0 && !os.IsNotExist(err) {
				t.Fatalf("rank %d wrote into the run directory %s", world.Rank(), dir)
			}
		})
	}
}

// TestDistResumeBitExact: a 2-rank CNN run with dropout, interrupted at
// step 7 (every rank cancels its context there; the vote stops all before
// step 8) and resumed, ends with the same losses, rates and weights, bit for
// bit, as the same run uninterrupted: the dropout masks depend only on
// (seed, rank, step), and the checkpoint holds the rest.
func TestDistResumeBitExact(t *testing.T) {
	world, err := dist.Open("mpi", dist.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The ranks share one run directory, named by rank 0.
	id := []float64{float64(os.Getpid())}
	if err := world.BroadcastFloat64(id, 0); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(os.TempDir(), fmt.Sprintf("gen-dist-resume-%d", int(id[0])))
	defer os.RemoveAll(base)
	cfg := Config{Model: "cnn", Batch: 16, Steps: 14, Seed: 3, Threads: 1, Dist: "mpi", DistTimeout: 60}
	record := func(out *[]float64) Hooks {
		return Hooks{Step: func(s StepRecord) { *out = append(*out, s.Loss, s.LR) }}
	}
	var straight, parts []float64
	if _, err := Run(context.Background(), cfg, filepath.Join(base, "straight"), record(&straight)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := record(&parts)
	step := h.Step
	h.Step = func(s StepRecord) {
		step(s)
		if s.Step == 7 {
			cancel()
		}
	}
	dir := filepath.Join(base, "parts")
	if _, err := Run(ctx, cfg, dir, h); err != ErrInterrupted {
		t.Fatalf("rank %d: the interrupted run returned %v, want ErrInterrupted", world.Rank(), err)
	}
	if len(parts) != 2*7 {
		t.Fatalf("rank %d: the interrupted run took %d steps, want 7", world.Rank(), len(parts)/2)
	}
	if err := world.Barrier(); err != nil { // rank 0 has written the checkpoint
		t.Fatal(err)
	}
	if _, err := Resume(context.Background(), dir, record(&parts)); err != nil {
		t.Fatal(err)
	}
	if len(parts) != len(straight) {
		t.Fatalf("rank %d: %d values after resuming, %d straight", world.Rank(), len(parts), len(straight))
	}
	for i := range straight {
		if parts[i] != straight[i] {
			t.Fatalf("rank %d, step %d: %s %.17g after resuming, %.17g straight", world.Rank(), i/2+1, [...]string{"loss", "rate"}[i%2], parts[i], straight[i])
		}
	}
	if world.Rank() == 0 {
		a, errA := os.ReadFile(filepath.Join(base, "straight", "checkpoint", "weights.safetensors"))
		b, errB := os.ReadFile(filepath.Join(dir, "checkpoint", "weights.safetensors"))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if string(a) != string(b) {
			t.Fatal("the resumed run's final weights differ from the straight run's")
		}
	}
	if err := world.Barrier(); err != nil { // rank 0 has read the files before they go
		t.Fatal(err)
	}
}

// TestDistCheckReplicas: the checkpoint-time check passes for replicas in
// lockstep and catches a one-ulp difference in one weight of rank 1.
func TestDistCheckReplicas(t *testing.T) {
	world, err := dist.Open("mpi", dist.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if world.Size() < 2 {
		t.Skip("needs 2 ranks (mpirun -np 2)")
	}
	r := &runner[float64]{cfg: Config{Data: "synthetic", Hidden: []int{4}, Precision: "f64"}.Defaults(), comm: world}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	if err := r.checkReplicas(); err != nil {
		t.Fatalf("rank %d: replicas built from one seed: %v", world.Rank(), err)
	}
	if world.Rank() == 1 {
		w := r.values[0].Data()
		w[0] = math.Nextafter(w[0], math.Inf(1))
	}
	err = r.checkReplicas()
	if world.Rank() == 1 && err == nil {
		t.Fatal("rank 1 with one weight one ulp off: the check passed")
	}
	if world.Rank() == 0 && err != nil {
		t.Fatalf("rank 0 holds the reference weights, yet: %v", err)
	}
}
