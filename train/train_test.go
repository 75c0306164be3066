package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// tiny is a fast regression run: 200 synthetic examples, batches of 8.
func tiny() Config {
	return Config{Data: "synthetic", Hidden: []int{6}, Act: "tanh", Batch: 8, Steps: 12, Seed: 3}
}

// spyRule calls check with the line each time the trainer asks for a rate,
// then defers to the inner rule.
type spyRule struct {
	inner gen.Rule
	check func(step int, line gen.Line)
}

func (s *spyRule) Next(step int, line gen.Line) gen.Decision {
	s.check(step, line)
	return s.inner.Next(step, line)
}
func (s *spyRule) State() gen.State            { return s.inner.State() }
func (s *spyRule) SetState(st gen.State) error { return s.inner.SetState(st) }
func (s *spyRule) Name() string                { return s.inner.Name() }

// oracle returns f, ∇f·u and uᵀHu of the run's model on the examples idx,
// at the current parameters, along the runner's direction u, computed on a
// tape of its own.
func oracle[T ad.Float](r *runner[T], set *data.Set, idx []int) (f, d1, d2 float64) {
	var b data.Batch[T]
	data.FillBatch(&b, set, idx)
	t := ad.Tape[T]{}
	l := r.record(&t, &b)
	return t.Jet(l, r.params, r.u, ad.Hessian)
}

// The probe batch is what the setting says: g(0), g'(0), g″(0) and g(±a)
// come from the gradient's batch (same), the next batch of the stream
// (fresh) or the independent iterator's batch (stream).
func TestProbeBatchFollowsTheMode(t *testing.T) {
	for _, mode := range []string{"same", "fresh", "stream"} {
		t.Run(mode, func(t *testing.T) {
			cfg := tiny()
			cfg.Probe = mode
			r := &runner[float64]{cfg: cfg.Defaults()}
			if err := r.setup(); err != nil {
				t.Fatal(err)
			}
			train := r.split.Train
			var want []int
			checked := 0
			r.rule = &spyRule{inner: gen.NewExact(gen.ExactConfig{}), check: func(step int, line gen.Line) {
				f, d1, d2 := oracle(r, train, want)
				g0, s, h := line.Jet(ad.Hessian)
				// The line and the oracle run the same rules on the same
				// batch and parameters: they differ only by summation order.
				if numcheck.Rel(g0, f, 1e-12) > 1e-12 || numcheck.Rel(-s, d1, 1e-12) > 1e-10 || numcheck.Rel(h, d2, 1e-12) > 1e-10 {
					t.Fatalf("step %d: line (%v, %v, %v), oracle on the %s batch (%v, %v, %v)", step, g0, -s, h, mode, f, d1, d2)
				}
				// g(±a) against the oracle at θ ∓ a·u, from a copy of θ so
				// that the run itself is left exactly as it was.
				const a = 0.01
				saved := make([]*tensor.Tensor[float64], len(r.values))
				for i, p := range r.values {
					saved[i] = p.Clone()
				}
				for _, sign := range []float64{1, -1} {
					for i, p := range r.values {
						tensor.Axpy(p, -sign*a, r.u[i])
					}
					fa, _, _ := oracle(r, train, want)
					for i, p := range r.values {
						tensor.Copy(p, saved[i])
					}
					// Same forward computation on the same batch: equal up to
					// the order of float64 sums, far below 1e-9.
					if got := line.At(sign * a); numcheck.Rel(got, fa, 1e-12) > 1e-9 {
						t.Fatalf("step %d: g(%g) = %v, oracle %v", step, sign*a, got, fa)
					}
				}
				// The other batches give other numbers: the check can fail.
				other, _, _ := oracle(r, train, otherBatch(want, train.Len()))
				if other == f {
					t.Fatalf("step %d: the loss does not depend on the batch", step)
				}
				checked++
			}}
			for range 4 {
				switch mode {
				case "same":
					want = append([]int(nil), r.loader.Peek()...)
				case "fresh":
					// The batch after the one about to be trained on.
					probeL := data.NewLoader(train, data.LoaderOptions{BatchSize: cfg.Batch, Seed: cfg.Seed})
					if err := probeL.Seek(r.loader.Position()); err != nil {
						t.Fatal(err)
					}
					probeL.Next()
					want = append([]int(nil), probeL.Peek()...)
				case "stream":
					want = append([]int(nil), r.stream.Peek()...)
				}
				if _, err := r.step(false); err != nil {
					t.Fatal(err)
				}
			}
			if checked != 4 {
				t.Fatalf("the rule was consulted %d times, want 4", checked)
			}
		})
	}
}

func otherBatch(idx []int, n int) []int {
	out := make([]int, len(idx))
	for i, v := range idx {
		out[i] = (v + 1) % n
	}
	return out
}

// The double-step defect cannot happen: Adam's moments and step count after
// training with approximate GeN (Φ = 1) equal those of a plain Adam fed the
// same gradients.
func TestProbingNeverStepsTheOptimizer(t *testing.T) {
	cfg := tiny()
	cfg.Opt, cfg.LR, cfg.Every = "adam", "gen", 1
	r := &runner[float64]{cfg: cfg.Defaults()}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	var grads [][]*tensor.Tensor[float64]
	inner := r.rule
	r.rule = &spyRule{inner: inner, check: func(step int, line gen.Line) {
		g := make([]*tensor.Tensor[float64], len(r.grads))
		for i, x := range r.grads {
			g[i] = x.Clone()
		}
		grads = append(grads, g)
	}}
	for range 6 {
		if _, err := r.step(false); err != nil {
			t.Fatal(err)
		}
	}
	plain := optim.NewAdam[float64](optim.AdamConfig{})
	u := make([]*tensor.Tensor[float64], len(r.values))
	for i, p := range r.values {
		u[i] = tensor.New[float64](p.Shape()...)
	}
	for _, g := range grads {
		plain.Direction(u, r.values, g) // Adam without decay does not read θ
	}
	got, want := r.opt.State(), plain.State()
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if got.Step != 6 || !bytes.Equal(gj, wj) {
		t.Fatalf("trainer's Adam state (step %d) differs from plain Adam fed the same gradients (step %d)", got.Step, want.Step)
	}
}

// stepsOf reads a run's step metrics without the wall-clock column.
func stepsOf(t *testing.T, dir string) []StepRecord {
	t.Helper()
	rows, err := readJSONL[StepRecord](filepath.Join(dir, "metrics.jsonl"), false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Seconds = 0
	}
	return rows
}

func TestResumeEqualsUninterrupted(t *testing.T) {
	if _, err := data.LoadMNIST(data.MNISTOptions{}); err != nil {
		t.Skipf("MNIST files unavailable (%v): run go mod download", err)
	}
	// A CNN with dropout on MNIST: the data order, the dropout streams of
	// training and probing, Adam and the GeN rule must all be restored.
	resumeMatches(t, Config{Model: "cnn", Batch: 8, Steps: 16, Seed: 5, CheckpointEvery: 4, Threads: 1}, 7)
}

// Per-layer GeN (gen.Block, approximate and exact) resumes bit for bit:
// its rates and averages travel in the checkpoint.
func TestResumePerLayerEqualsUninterrupted(t *testing.T) {
	for _, lr := range []string{"gen", "gen-exact"} {
		cfg := tiny()
		cfg.Groups, cfg.LR, cfg.Steps, cfg.CheckpointEvery, cfg.Every = "layer", lr, 16, 4, 2
		a, _, _ := resumeMatches(t, cfg, 7)
		if len(a[0].GroupLR) < 2 || !a[0].Estimated {
			t.Fatalf("%s --groups layer: first step's rates %v (estimated %v), want one per layer", lr, a[0].GroupLR, a[0].Estimated)
		}
	}
}

// resumeMatches runs cfg for its steps uninterrupted and interrupted after
// step at then resumed, and fails unless metrics and weights agree bit for
// bit; it returns the uninterrupted run's steps and both runs' summaries.
func resumeMatches(t *testing.T, cfg Config, at int) (steps []StepRecord, full, resumed *Summary) {
	t.Helper()
	base := t.TempDir()
	fullDir, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
	full, err := Run(context.Background(), cfg, fullDir, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hooks := Hooks{Step: func(s StepRecord) {
		if s.Step == at {
			cancel()
		}
	}}
	if _, err := Run(ctx, cfg, cut, hooks); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run returned %v, want ErrInterrupted", err)
	}
	if m, err := checkpoint.ReadManifest(filepath.Join(cut, "checkpoint")); err != nil || m.Step != int64(at) {
		t.Fatalf("interrupt checkpoint: step %d, %v; want step %d", m.Step, err, at)
	}
	resumed, err = Resume(context.Background(), cut, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := stepsOf(t, fullDir), stepsOf(t, cut)
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if len(a) != cfg.Steps || !bytes.Equal(aj, bj) {
		t.Fatalf("resumed metrics differ from the uninterrupted run (%d vs %d rows)", len(b), len(a))
	}
	wa, _ := os.ReadFile(filepath.Join(fullDir, "checkpoint", "weights.safetensors"))
	wb, _ := os.ReadFile(filepath.Join(cut, "checkpoint", "weights.safetensors"))
	if len(wa) == 0 || !bytes.Equal(wa, wb) {
		t.Fatal("resumed final weights differ from the uninterrupted run")
	}
	return a, full, resumed
}

func TestNonFiniteLossStopsAndKeepsTheCheckpoint(t *testing.T) {
	cfg := tiny()
	cfg.LR, cfg.Opt, cfg.CheckpointEvery, cfg.Steps = "const:1e8", "sgd", 1, 50
	dir := t.TempDir()
	_, err := Run(context.Background(), cfg, dir, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "finite") || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("diverging run returned %v, want a non-finite-loss error naming the checkpoint", err)
	}
	var params []*ad.Var[float32]
	r := &runner[float32]{cfg: cfg.Defaults()}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	params = r.params
	m, err := checkpoint.Load(filepath.Join(dir, "checkpoint"), &checkpoint.State[float32]{Params: params})
	if err != nil {
		t.Fatalf("the last checkpoint does not load: %v", err)
	}
	for _, p := range params {
		if !tensor.AllFinite(p.Value) {
			t.Fatalf("checkpoint at step %d holds non-finite weights", m.Step)
		}
	}
}

func TestValidateNamesTheValidValues(t *testing.T) {
	cases := map[string]Config{
		"--opt":                               {Opt: "adamax"},
		"--model":                             {Model: "rnn"},
		"--lr":                                {LR: "exp:0.1"},
		"fresh, same":                         {Probe: "next"},
		"--gamma":                             {Gamma: func() *float64 { g := 1.5; return &g }()},
		"--eager -1":                          {Eager: ptr(-1)},
		"GeN rules":                           {Eager: ptr(10), LR: "const:0.01"},
		"recall applies to approximate GeN":   {LR: "gen-exact", Policy: "recall"},
		"--groups all":                        {Policy: "recall", Groups: "layer"},
		"--trend applies to approximate GeN":  {LR: "const:0.1", Trend: 4},
		"drop --trend":                        {Trend: 4, Groups: "layer"},
		"--trend-z -1":                        {Trend: 4, TrendZ: -1},
		"add --trend N or drop --trend-z":     {TrendZ: 3},
		"--anneal":                            {Anneal: "held"},
		"GeN rule's level over a cooldown":    {Anneal: "level", LR: "const:0.1"},
		"--horizon cooldown or sqrt-cooldown": {Anneal: "level", Horizon: "cosine"},
		"use --anneal rule or --groups all":   {Anneal: "level", Groups: "layer"},
	}
	for want, c := range cases {
		err := c.Defaults().Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want an error mentioning %q", c, err, want)
		}
	}
}

func TestRunWritesItsFiles(t *testing.T) {
	dir := t.TempDir()
	sum, err := Run(context.Background(), tiny(), dir, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "metrics.jsonl", "metrics.csv", "epochs.jsonl", "summary.json", "loss.png", "lr.svg", "checkpoint/manifest.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if sum.Steps != 12 || math.IsNaN(float64(sum.TestLoss)) || sum.TestAccuracy != nil {
		t.Fatalf("summary %+v", sum)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if n := strings.Count(string(csv), "\n"); n != 13 {
		t.Fatalf("metrics.csv has %d lines, want a header and 12 rows", n)
	}
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err == nil {
		t.Fatal("a second run into the same directory was accepted")
	}
	_ = probe.Fresh
}

// Metrics appended after the last checkpoint (a crash before the next one)
// are dropped on resume, a torn last line included, and the resumed run
// still equals the uninterrupted one.
func TestResumeDropsMetricsPastTheCheckpoint(t *testing.T) {
	cfg := tiny()
	cfg.CheckpointEvery, cfg.Steps = 4, 12
	base := t.TempDir()
	full, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Run(ctx, cfg, cut, Hooks{Step: func(s StepRecord) {
		if s.Step == 6 {
			cancel()
		}
	}}); !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	// Pretend the crash came later than step 4's checkpoint: put that
	// checkpoint (from a 4-step run of the same configuration, identical up
	// to there) in place of step 6's, and tear a seventh metrics line.
	four := cfg
	four.Steps = 4
	if _, err := Run(context.Background(), four, filepath.Join(base, "four"), Hooks{}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(cut, "checkpoint")
	if err := os.RemoveAll(ck); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(base, "four", "checkpoint"), ck); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(cut, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"step":7,"epo`)
	f.Close()
	if _, err := Run(context.Background(), cfg, full, Hooks{}); err != nil {
		t.Fatal(err)
	}
	// The transplanted checkpoint belongs to a 4-step run: take its
	// config.json too, and extend the run back to 12 steps.
	four4, err := os.ReadFile(filepath.Join(base, "four", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cut, "config.json"), four4, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ResumeWith(context.Background(), cut, ResumeOptions{Steps: 12}, Hooks{}); err != nil {
		t.Fatal(err)
	}
	a, b := stepsOf(t, full), stepsOf(t, cut)
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	if !bytes.Equal(aj, bj) {
		t.Fatalf("after resuming from step 4 with metrics up to step 6 and a torn line, the metrics differ from an uninterrupted run (%d vs %d rows)", len(b), len(a))
	}
}

func TestResumeRejectsACorruptedConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []string{`"model": "rnn"`, `"batch": -4`, `"max_change": 0.5`} {
		k := strings.SplitN(edit, ":", 2)[0]
		var raw map[string]json.RawMessage
		b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		json.Unmarshal(b, &raw)
		raw[strings.Trim(k, `"`)] = json.RawMessage(strings.SplitN(edit, ":", 2)[1])
		nb, _ := json.Marshal(raw)
		os.WriteFile(filepath.Join(dir, "config.json"), nb, 0o644)
		if _, err := Resume(context.Background(), dir, Hooks{}); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("resume with %s: %v, want an error naming config.json", edit, err)
		}
	}
}

func TestFlagValuesThatWouldPanicAreErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []Config{
		{WeightDecay: -0.5}, {ClipNorm: -2}, {FallbackLR: -1}, {FallbackLR: nan}, {LRMin: inf},
		{Gamma: &nan}, {CheckpointEvery: -1}, {ProbeFactor: inf}, {Threads: -1},
		{Opt: "sgd", LR: "sps", Warmup: 10}, // a warm-up it would ignore
	} {
		if err := c.Defaults().Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted it", c)
		}
	}
}

// After every kind of fallback the next step's direction is still finite,
// and training goes on.
func TestDirectionStaysFiniteThroughFallbacks(t *testing.T) {
	cfg := tiny()
	cfg.Steps, cfg.Opt, cfg.LR, cfg.Every = 40, "adam", "gen-exact", 1
	cfg.Estimator, cfg.Policy = "smoothed", "fallback" // per-jet decisions: failures are frequent
	r := &runner[float64]{cfg: cfg.Defaults()}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	fallbacks := 0
	for range 40 {
		rec, err := r.step(false)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Reason != "ok" {
			fallbacks++
		}
		for _, u := range r.u {
			if !tensor.AllFinite(u) {
				t.Fatalf("step %d (%s): the direction is not finite", rec.Step, rec.Reason)
			}
		}
	}
	if fallbacks == 0 {
		t.Fatal("no fallback fired: the test exercises nothing")
	}
}

// gen probe --checkpoint probes the run's next direction: its weights,
// Adam's moments and its data position, with the run's configuration.
func TestProbeAtACheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := tiny()
	if _, err := Run(context.Background(), cfg, dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	res, err := Probe(Config{Data: "mnist", Probe: "same"}, ProbeOptions{Checkpoint: dir, Alphas: "0:0.01:3"})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := Probe(cfg, ProbeOptions{Alphas: "0:0.01:3"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Loss == fresh.Loss || math.IsNaN(float64(res.Loss)) {
		t.Fatalf("probe at the checkpoint gives loss %v, the same as at initialization (%v)", res.Loss, fresh.Loss)
	}
	if res.Batch != "same" {
		t.Fatalf("probe batch %q, want same", res.Batch)
	}
}

// The GeN rules anneal over the last 20 % of the steps by default (the gpt
// model's default rule with the 1 − √ shape); a schedule gets no horizon,
// and an explicit --horizon is kept.
func TestDefaultHorizon(t *testing.T) {
	for lr, want := range map[string]string{"": "cooldown", "gen": "cooldown", "gen-exact": "cooldown",
		"gen-trust:2": "cooldown", "const:0.01": "none", "cosine:0.1": "none", "sps": "none"} {
		if got := (Config{LR: lr}).Defaults().Horizon; got != want {
			t.Errorf("--lr %q: default horizon %q, want %q", lr, got, want)
		}
	}
	if got := (Config{Horizon: "none"}).Defaults().Horizon; got != "none" {
		t.Errorf("explicit --horizon none became %q", got)
	}
	// The gpt model's default rule has the 1 − √ cooldown; a named --lr
	// takes the common default.
	if got := (Config{Model: "gpt", Data: "text"}).Defaults().Horizon; got != "sqrt-cooldown" {
		t.Errorf("gpt default horizon %q, want sqrt-cooldown", got)
	}
	if got := (Config{Model: "gpt", Data: "text", LR: "gen-trust:4"}).Defaults().Horizon; got != "cooldown" {
		t.Errorf("gpt --lr gen-trust:4 horizon %q, want cooldown", got)
	}
}

// Eager probing is on by default (10 steps) where the estimator is Mean —
// Adam's directions — and off for the Smoothed rules (the SGD family, the
// GPT) and for schedules; an explicit --eager 0 is kept, and the run's rule
// is built with it.
func TestDefaultEager(t *testing.T) {
	cases := []struct {
		name string
		c    Config
		want int
	}{
		{"default", Config{}, 10},
		{"gen-exact", Config{LR: "gen-exact"}, 10},
		{"sgd", Config{Opt: "sgd"}, 0},
		{"explicit smoothed", Config{Estimator: "smoothed"}, 0},
		{"gpt", Config{Model: "gpt", Data: "text"}, 0},
		{"schedule", Config{LR: "const:0.01"}, 0},
		{"explicit 0", Config{Eager: ptr(0)}, 0},
		{"explicit 3 on sgd", Config{Opt: "sgd", Eager: ptr(3)}, 3},
	}
	for _, tc := range cases {
		c := tc.c.Defaults()
		if c.Eager == nil || *c.Eager != tc.want {
			t.Errorf("%s: default eager %v, want %d", tc.name, c.Eager, tc.want)
		}
	}
	r, err := (Config{}).Defaults().rule(100)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Name(), "eager 10") {
		t.Errorf("default rule %q does not say it probes the first 10 steps", r.Name())
	}
}

// ptr returns a pointer to v, for the Config fields where nil means the default.
func ptr[T any](v T) *T { return &v }

// --anneal level averages the level over the rule's own memory Φ/(1−γ)
// (gen.Averaging, through the trust test too).
func TestHoldWindowIsTheRulesMemory(t *testing.T) {
	g := 0.5
	for _, c := range []struct {
		cfg  Config
		want int
	}{
		{Config{LR: "gen"}, 40},                             // Φ 4, γ 0.9
		{Config{LR: "gen-trust:4", Every: 2, Gamma: &g}, 4}, // 2/(1 − ½)
		{Config{LR: "gen-exact", Estimator: "smoothed"}, 1}, // Φ 1, γ 0
		{Config{LR: "gen-exact-trust", Estimator: "mean"}, 10},
		{Config{Data: "text", Model: "gpt"}.Defaults(), 100}, // Φ 4, γ 0.96
	} {
		cfg := c.cfg
		cfg.Anneal = "level"
		if cfg.Horizon == "" {
			cfg.Horizon = "cooldown"
		}
		r, err := cfg.Defaults().rule(1000)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("at the %d-step level", c.want); !strings.Contains(r.Name(), want) {
			t.Errorf("%s (Φ %d, γ %v, %s): rule %q, want %q", c.cfg.LR, c.cfg.Every, c.cfg.Gamma, c.cfg.Estimator, r.Name(), want)
		}
	}
}
