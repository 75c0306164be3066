package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
)

// tinyGPT is a fast gpt run on the built-in corpus: one block of width 16,
// sequences of 8, dropout on so that its random stream must be restored.
func tinyGPT() Config {
	return Config{Data: "text", Model: "gpt", Layers: 1, Heads: 2, Embed: 16, Context: 8, Dropout: 0.1,
		Batch: 4, Steps: 10, EvalEvery: 5, Seed: 3, Threads: 1, Samples: 1}
}

func TestGPTResumeEqualsUninterrupted(t *testing.T) {
	cfg := tinyGPT()
	cfg.CheckpointEvery = 3
	_, sum, sum2 := resumeMatches(t, cfg, 4)
	if sum.TestLoss != sum2.TestLoss || !slices.Equal(sum.Samples, sum2.Samples) {
		t.Fatalf("validation loss %v and samples %q; resumed: %v and %q", sum.TestLoss, sum.Samples, sum2.TestLoss, sum2.Samples)
	}
}

// With --anneal level the default rule's cooldown runs from a held level
// without probing; an interrupt inside it resumes bit for bit.
func TestGPTHoldResumesInsideTheCooldown(t *testing.T) {
	cfg := tinyGPT()
	cfg.Steps, cfg.Anneal = 20, "level"
	steps, _, _ := resumeMatches(t, cfg, 18)
	for _, s := range steps {
		if cool := s.Step > 17; cool != (s.Reason == "scheduled") {
			t.Fatalf("step %d: reason %s; the cooldown (steps 18–20) is scheduled, no other step", s.Step, s.Reason)
		}
	}
}

// A gpt run evaluates every EvalEvery steps, reports a validation loss
// below the uniform guess log V, samples text, and gen sample reads its
// run directory: the same seed gives the same text.
func TestGPTRunEvaluatesAndSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tinyGPT()
	cfg.Dropout = 0
	var evals []int
	sum, err := Run(context.Background(), cfg, dir, Hooks{Epoch: func(e EpochRecord) { evals = append(evals, e.Step) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(evals, []int{5, 10}) {
		t.Errorf("evaluated at steps %v, want [5 10]", evals)
	}
	split, err := data.LoadText("", data.TextOptions{Context: 8})
	if err != nil {
		t.Fatal(err)
	}
	v := split.Train.Vocab.Size()
	if l := float64(sum.TestLoss); !(l > 0 && l < math.Log(float64(v))) {
		t.Errorf("validation loss %v, want in (0, log %d = %.3f)", l, v, math.Log(float64(v)))
	}
	if len(sum.Samples) != 1 || !strings.Contains(sum.Samples[0], "|") {
		t.Errorf("samples %q, want one prompt|continuation line", sum.Samples)
	}
	opts := SampleOptions{Prompt: "Light", Tokens: 30, Seed: 4}
	s1, err := Sample(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := Sample(dir, opts)
	opts.Seed = 5
	s3, _ := Sample(dir, opts)
	if s1 != s2 || !strings.HasPrefix(s1, "Light") || len([]rune(s1)) != 35 {
		t.Errorf("samples %q and %q: want the same 5 + 30 characters starting with the prompt", s1, s2)
	}
	if s1 == s3 {
		t.Errorf("seeds 4 and 5 gave the same text %q", s1)
	}
	if _, err := Sample(dir, SampleOptions{Prompt: "Ω"}); err == nil || !strings.Contains(err.Error(), "'Ω'") {
		t.Errorf("a prompt outside the vocabulary: %v, want an error naming the character", err)
	}
	// A run of another model is refused.
	other := filepath.Join(t.TempDir(), "mlp")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.WriteJSON(filepath.Join(other, "config.json"), tiny()); err != nil {
		t.Fatal(err)
	}
	if _, err := Sample(other, SampleOptions{}); err == nil || !strings.Contains(err.Error(), "gpt") {
		t.Errorf("sampling an mlp run: %v, want an error", err)
	}
}

// Every position of a window predicts the next character of the corpus.
func TestGPTSequenceLabels(t *testing.T) {
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 2)
	split, err := data.TextFromString("abc", text, data.TextOptions{Context: 4, TestFraction: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	r := &runner[float32]{cfg: Config{Context: 4}}
	var b data.Batch[float32]
	data.FillBatch(&b, split.Train, []int{0, 5})
	got := split.Train.Vocab.Decode(r.seqLabels(&b))
	if want := "bcde" + "ghij"; got != want {
		t.Errorf("targets %q, want %q", got, want)
	}
	// The validation windows' targets are test labels only, and the
	// windows do not overlap.
	test := split.Test
	idx := gptWindows(test)
	if len(idx) == 0 {
		t.Fatal("no validation windows")
	}
	for k, i := range idx {
		if i+1 < test.Context {
			t.Errorf("window %d at example %d: its first target is in the training text", k, i)
		}
		if k > 0 && i-idx[k-1] < test.Context {
			t.Errorf("windows at %d and %d overlap", idx[k-1], i)
		}
	}
}

func TestGPTConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Model: "mlp", Layers: 2}, "--model gpt"},
		{Config{Model: "gpt", Data: "mnist"}, "text data"},
		{Config{Model: "gpt", Data: "text", Heads: 3, Embed: 8}, "multiple"},
		{Config{Model: "gpt", Data: "text", Dropout: 1}, "--dropout"},
		{Config{Model: "gpt", Data: "text", Loss: "mse"}, "--loss ce"},
		{Config{Opt: "sgd", Beta2: 0.9}, "--beta2"},
	} {
		err := c.cfg.Defaults().Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	d := Config{Model: "gpt", Data: "text"}.Defaults()
	if d.Layers != 4 || d.Heads != 4 || d.Embed != 128 || d.Context != 64 || d.Batch != 12 || d.Steps != 2000 ||
		d.Opt != "adamw" || d.WeightDecay != 0.1 || d.Beta2 != 0.99 || d.Dropout != 0 || d.EvalEvery != 250 || d.LR0 != 1e-3 {
		t.Errorf("gpt defaults %+v, want nanoGPT's small-CPU recipe", d)
	}
}

// TestGPTDefaultRule checks the gpt model's GeN rule: gen-trust:4 with the
// Smoothed estimator and the fallback policy, warmed up over Ma & Yarats's
// 2/(1−β₂) steps, its probes' losses watched over 1/(1−β₂) steps; both
// follow β₂ (and the watch Φ), yield to explicit flags, and are not added to
// a rule the user names.
func TestGPTDefaultRule(t *testing.T) {
	g := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		cfg           Config
		lr            string
		warmup, trend int
		gamma         float64 // 0: unset (the rule's own default)
	}{
		{Config{}, "gen-trust:4", 200, 25, 0.96},
		{Config{Beta2: 0.995}, "gen-trust:4", 400, 50, 0.98},
		{Config{Every: 2}, "gen-trust:4", 200, 50, 0.98},
		{Config{Opt: "adam", Beta2: 0.9}, "gen-trust:4", 20, 3, 2.0 / 3},
		{Config{Warmup: 50, Trend: 7}, "gen-trust:4", 50, 7, 0.96},
		{Config{Trend: -1}, "gen-trust:4", 200, -1, 0.96}, // off
		{Config{Gamma: g(0.5)}, "gen-trust:4", 200, 25, 0.5},
		{Config{Opt: "lion"}, "gen-trust:4", 0, 0, 0},
		{Config{LR: "gen-trust:2"}, "gen-trust:2", 0, 0, 0},
		{Config{LR: "cosine:0.003"}, "cosine:0.003", 0, 0, 0},
		{Config{Opt: "sgd"}, "gen", 0, 0, 0},
	} {
		c.cfg.Model, c.cfg.Data = "gpt", "text"
		d := c.cfg.Defaults()
		if d.LR != c.lr || d.Warmup != c.warmup || d.Trend != c.trend {
			t.Errorf("%+v: --lr %s, --warmup %d, --trend %d; want %s, %d, %d", c.cfg, d.LR, d.Warmup, d.Trend, c.lr, c.warmup, c.trend)
		}
		if got := d.Gamma; (c.gamma == 0) != (got == nil) || (got != nil && math.Abs(*got-c.gamma) > 1e-15) {
			t.Errorf("%+v: --gamma %s, want %v (0: unset)", c.cfg, fmtOpt(got), c.gamma)
		}
		if c.cfg.LR == "" && c.cfg.Opt != "sgd" && (d.Estimator != "smoothed" || d.Policy != "project") {
			t.Errorf("%+v: estimator %s, policy %s; want smoothed, project", c.cfg, d.Estimator, d.Policy)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%+v: %v", c.cfg, err)
		}
	}
}

// fmtOpt prints an optional float: its value, or "unset".
func fmtOpt(x *float64) string {
	if x == nil {
		return "unset"
	}
	return fmt.Sprint(*x)
}
