package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
)

// gptEvalWindows bounds the number of fixed test windows the gpt model's
// validation loss is measured on (16 384 positions at context 64).
const gptEvalWindows = 256

// gptDefaults fills the gpt model's defaults, nanoGPT's small-CPU recipe
// (its README, "I only have a macbook"): 4 layers, 4 heads, width 128,
// context 64, batch 12, AdamW with weight decay 0.1 and β₂ 0.99, 2000
// steps, validation every 250 steps.
//
// The GeN rule is approximate GeN with the Smoothed estimator inside the
// trust-ratio test with κ ≤ 4 (gen-trust:4), starting from 1e-3 (nanoGPT's
// rate), its rate warmed up linearly over 2/(1−β₂) steps (200 at β₂ 0.99)
// — the "untuned warm-up" of Ma & Yarats ("On the adequacy of untuned
// warmup for adaptive optimization", AAAI 2021), a length set by Adam's
// second-moment average, not a tuned number. Everything else follows that
// average's time, 1/(1−β₂) = 100 steps, 25 probes at Φ = 4: the probes'
// losses at θ are watched over it (Trend; a significant rise fails the
// probe and resets the rate to the fallback's 1e-3), and the smoothing
// averages over it, γ = 1 − 1/25 = 0.96. A probe that finds AdamW's
// direction not a descent direction enters that average as the estimate 0
// (the project policy), so the rate comes from the estimates: under the
// fallback policy each such probe, one in eight, reset it to 1e-3, and the
// smoothed rate seldom left 1–1.4e-3. The last 400 steps anneal it with
// the 1 − √ cooldown (Hägele et al., NeurIPS 2024). Inside the rule the
// cooldown is partly undone — the estimates follow the rate down, and the
// trust test's κ grows as the shorter steps fit the parabola better — yet
// annealing the level held before it instead (--anneal level, gen.Anneal)
// ended 0.0009 higher over 90 seeds. Over seeds 1–90 this rule ends at
// validation loss 1.641 ± 0.025 against 1.638 ± 0.011 for AdamW with
// nanoGPT's schedule at its best peak (paired +0.0023, standard error
// 0.0029: level within the error, with 2.2× the spread; on the 32 seeds it
// was chosen on −0.0004 ± 0.0036); the former rule (fallback, γ 0.9, linear
// cooldown) 0.011 higher on 26 seeds, and before the warm-up and the watch
// the rule had lost the start of some seeds (1.948 on seed 6).
// The Mean estimator, the default of the other models, wrecks the
// transformer's start, and approximate GeN's automatic start picked
// 0.04–0.08 for AdamW's direction in the first steps: validation loss 2.43
// and 2.57 after 2000 steps (docs/results/gpt.md).
func (c Config) gptDefaults() Config {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.Layers, 4)
	set(&c.Heads, 4)
	set(&c.Embed, 128)
	set(&c.Context, 64)
	set(&c.Batch, 12)
	set(&c.EvalEvery, 250)
	if c.Epochs == 0 {
		set(&c.Steps, 2000)
	}
	if c.Opt == "" {
		c.Opt = "adamw"
	}
	if c.Opt == "adamw" || c.Opt == "adam" {
		if c.Beta2 == 0 {
			c.Beta2 = 0.99
		}
	}
	if c.Opt == "adamw" && c.WeightDecay == 0 {
		c.WeightDecay = 0.1
	}
	if c.LR == "" && !sgdFamily(c.Opt) {
		// The Mean estimator's greedy rate is too long for the
		// transformer's first hundreds of steps (1.8e-2 falling to 5e-3 by
		// step 500), which leaves it on a plateau: validation loss 2.43
		// after 2000 steps, against 1.77 for this rule (docs/results/gpt.md).
		c.LR = "gen-trust:4"
		if c.Estimator == "" {
			c.Estimator = "smoothed"
		}
		if c.Policy == "" {
			c.Policy = "project"
		}
		if c.Opt == "adamw" || c.Opt == "adam" {
			if c.Warmup == 0 {
				c.Warmup = 2 * secondMomentTime(c.Beta2)
			}
			every := c.Every
			if every == 0 {
				every = gen.ApproxEvery
			}
			probes := max(secondMomentTime(c.Beta2)/every, 3)
			if c.Trend == 0 {
				c.Trend = probes
			}
			if c.Gamma == nil {
				g := 1 - 1/float64(probes)
				c.Gamma = &g
			}
		}
		if c.Horizon == "" {
			c.Horizon = "sqrt-cooldown"
		}
	}
	if c.LR0 == 0 {
		c.LR0 = 1e-3
	}
	return c
}

// secondMomentTime is the averaging time of Adam's second-moment
// estimate, 1/(1−β₂) steps (100 at β₂ = 0.99). The gpt model's default rule
// warms up over twice it, Ma & Yarats's untuned warm-up, and watches its
// probes' losses over it (Trend, in probes).
func secondMomentTime(beta2 float64) int {
	return int(math.Round(1 / (1 - beta2)))
}

// validateGPT checks the settings that only the gpt model reads.
func (c Config) validateGPT() error {
	if c.Model != "gpt" {
		if c.Layers != 0 || c.Heads != 0 || c.Embed != 0 || c.Dropout != 0 || c.Tie {
			return fmt.Errorf("--layers, --heads, --embed, --dropout and --tie apply to --model gpt, not %s", c.Model)
		}
		return nil
	}
	if c.Data != "text" && !strings.HasPrefix(c.Data, "text:") {
		return fmt.Errorf("--model gpt needs text data (--data text or text:PATH), not %s", c.Data)
	}
	if c.Loss != "" && c.Loss != "ce" {
		return fmt.Errorf("--model gpt outputs logits: use --loss ce, not %s", c.Loss)
	}
	return c.gptConfig(1).Validate()
}

// gptConfig is the nn configuration for a vocabulary of v tokens.
func (c Config) gptConfig(v int) nn.GPTConfig {
	return nn.GPTConfig{Vocab: v, Context: c.Context, Layers: c.Layers, Heads: c.Heads, Embed: c.Embed, Dropout: c.Dropout, Tie: c.Tie}
}

// seqLabels returns the next-token targets of every position of the
// windows in b: window k holds tokens t_i … t_{i+C−1} and position j
// predicts t_{i+j+1}, the next token of the window or, for the last
// position, the set's label. The slice belongs to b (one per batch, reused),
// since the tape reads it again on replays.
func (r *runner[T]) seqLabels(b *data.Batch[T]) []int {
	if r.labels == nil {
		r.labels = map[*data.Batch[T]][]int{}
	}
	c := r.cfg.Context
	lab := r.labels[b][:0]
	for k, next := range b.Labels {
		lab = append(lab, b.Tokens[k*c+1:(k+1)*c]...)
		lab = append(lab, next)
	}
	r.labels[b] = lab
	return lab
}

// gptWindows returns the example indices of the fixed validation windows:
// up to gptEvalWindows evenly spaced, non-overlapping windows of the test
// set whose every target is a test label (the test set's first C examples'
// windows begin in the training text).
func gptWindows(test *data.Set) []int {
	c := test.Context
	first := c - 1 // targets t_{i+1} … t_{i+C} are test labels for i ≥ C − 1
	avail := (test.Len() - first) / c
	n := min(avail, gptEvalWindows)
	if n <= 0 {
		return nil
	}
	stride := (test.Len() - first) / n
	idx := make([]int, n)
	for j := range idx {
		idx[j] = first + j*stride
	}
	return idx
}

// evaluateGPT returns the mean next-token loss and accuracy over every
// position of the fixed validation windows, in evaluation mode. With several
// ranks, each evaluates its range of the windows and the sums are
// all-reduced.
func (r *runner[T]) evaluateGPT() (EpochRecord, error) {
	idx := gptWindows(r.split.Test)
	if len(idx) == 0 {
		return EpochRecord{TestLoss: Num(math.NaN())}, nil
	}
	var t ad.Tape[T]
	var b data.Batch[T]
	var sum float64
	correct := 0
	const chunk = 32
	first, last := r.evalRange(len(idx))
	for lo := first; lo < last; lo += chunk {
		hi := min(lo+chunk, last)
		data.FillBatch(&b, r.split.Test, idx[lo:hi])
		t.Reset()
		l := r.record(&t, &b)
		lab := r.seqLabels(&b)
		sum += ad.Scalar(l) * float64(len(lab))
		correct += countCorrect(l.In(0).Value, lab)
	}
	sum, correct, err := r.reduceEval(sum, correct)
	if err != nil {
		return EpochRecord{}, err
	}
	n := float64(len(idx) * r.cfg.Context) // every window has Context positions
	acc := float64(correct) / n
	return EpochRecord{TestLoss: Num(sum / n), TestAccuracy: &acc}, nil
}

// sampleGPT generates n lines of width characters, each continuing a
// prompt of 16 characters taken from the test set, with the key/value
// cache, at temperature 1 (seeded, so repeatable).
func (r *runner[T]) sampleGPT(n, width int) []string {
	test := r.split.Test
	g := r.model.(*nn.GPT[T])
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 3))
	const prompt = 16
	if len(test.Tokens) <= prompt {
		return nil
	}
	var lines []string
	gen := g.NewGenerator()
	for range n {
		start := rng.IntN(len(test.Tokens) - prompt)
		p := test.Tokens[start : start+prompt]
		gen.Reset()
		out := gen.Generate(p, width, 1, rng)
		line := test.Vocab.Decode(p) + "|" + test.Vocab.Decode(out)
		lines = append(lines, strings.ReplaceAll(line, "\n", " "))
	}
	return lines
}

// SampleOptions configures Sample. The zero value continues a newline with
// 500 tokens at temperature 1 with seed 0.
type SampleOptions struct {
	// Prompt is the text to continue (default "\n", nanoGPT's start; the
	// first character of the vocabulary if the corpus has no newline).
	Prompt string
	// Tokens is the number of characters to generate (default 500).
	Tokens int
	// Temperature divides the logits before sampling (default 1 when
	// TemperatureSet is false; 0 picks the most likely character).
	Temperature    float64
	TemperatureSet bool
	// Seed fixes the draws: the same seed gives the same text.
	Seed uint64
}

// Sample loads the gpt run in dir (its configuration, corpus vocabulary and
// last checkpoint) and returns the prompt's continuation, generated with
// the key/value cache (see nn.Generator).
func Sample(dir string, opts SampleOptions) (string, error) {
	var cfg Config
	if err := checkpoint.ReadJSON(filepath.Join(dir, "config.json"), &cfg); err != nil {
		return "", fmt.Errorf("train: sample %s: %w", dir, err)
	}
	cfg = cfg.Defaults()
	if cfg.Model != "gpt" {
		return "", fmt.Errorf("train: sample %s: the run trained --model %s; gen sample needs a gpt run", dir, cfg.Model)
	}
	if opts.Tokens == 0 {
		opts.Tokens = 500
	}
	if !opts.TemperatureSet {
		opts.Temperature = 1
	}
	if opts.Tokens < 0 || !(opts.Temperature >= 0) || math.IsInf(opts.Temperature, 0) {
		return "", fmt.Errorf("train: sample: --tokens %d must not be negative and --temperature %v must be finite and ≥ 0", opts.Tokens, opts.Temperature)
	}
	if cfg.Precision == "f64" {
		return sampleRun[float64](dir, cfg, opts)
	}
	return sampleRun[float32](dir, cfg, opts)
}

func sampleRun[T ad.Float](dir string, cfg Config, opts SampleOptions) (string, error) {
	split, err := data.Load(cfg.Data, data.Options{Text: data.TextOptions{Context: cfg.Context}})
	if err != nil {
		return "", fmt.Errorf("train: sample %s: the run's corpus: %w", dir, err)
	}
	vocab := split.Train.Vocab
	g := nn.NewGPT[T](cfg.gptConfig(vocab.Size()), rand.New(rand.NewPCG(cfg.Seed, 0)))
	if _, err := checkpoint.Load(filepath.Join(dir, "checkpoint"), &checkpoint.State[T]{Params: g.Params()}); err != nil {
		return "", fmt.Errorf("train: sample %s: %w", dir, err)
	}
	prompt := opts.Prompt
	if prompt == "" {
		prompt = "\n"
		if _, ok := vocab.ID('\n'); !ok {
			prompt = string(vocab.Runes[0])
		}
	}
	ids, err := vocab.Encode(prompt)
	if err != nil {
		return "", fmt.Errorf("train: sample: --prompt: %w; use characters of the run's corpus", err)
	}
	out := g.NewGenerator().Generate(ids, opts.Tokens, opts.Temperature, rand.New(rand.NewPCG(opts.Seed, 0)))
	return prompt + vocab.Decode(out), nil
}

// recordGPT records the gpt model's mean next-token cross-entropy over
// every position of the windows in b.
func (r *runner[T]) recordGPT(t *ad.Tape[T], b *data.Batch[T]) *ad.Var[T] {
	out := r.model.Forward(t, t.Const(b.X))
	return loss.Record(t, loss.CE, out, loss.Labels[T](r.seqLabels(b)))
}
