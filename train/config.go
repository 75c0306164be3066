package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/dist"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/peer"
	"github.com/genopt/gen/probe"
)

// Config describes a run. Its field names match the flags of the gen
// command; the zero value of every field is its default (written in the
// field's comment), so Config{} trains the default: MNIST, an MLP
// 784-256-10 with ReLU, Adam directions and approximate GeN with fresh
// probes and the Mean estimator (the ratio of the averaged slope and
// curvature along the line), 3 epochs of batches of 128.
type Config struct {
	// Data names the data set: mnist (default), csv:PATH, synthetic,
	// teacher, text or text:PATH.
	Data string `json:"data"`
	// DataDir holds the MNIST files (default: the Go module cache).
	DataDir string `json:"data_dir,omitempty"`
	// Target is the CSV target column, by name or 0-based index (default: last).
	Target string `json:"target,omitempty"`
	// Task is classification or regression for CSV data (default
	// classification); other data sets fix it.
	Task string `json:"task,omitempty"`
	// Standardize standardises CSV features with the training split's
	// statistics (default true; nil means the default, a pointer so that
	// false can be asked for).
	Standardize *bool `json:"standardize,omitempty"`

	// Model is mlp (default), cnn, charmlp or gpt.
	Model string `json:"model"`
	// Layers, Heads and Embed size the gpt model (default 4, 4, 128,
	// nanoGPT's small-CPU recipe; see nn.GPTConfig).
	Layers int `json:"layers,omitempty"`
	Heads  int `json:"heads,omitempty"`
	Embed  int `json:"embed,omitempty"`
	// Context is the window of text data: the characters a charmlp sees
	// (default 32) or the sequence length of gpt (default 64).
	Context int `json:"context,omitempty"`
	// Dropout is gpt's dropout probability (default 0).
	Dropout float64 `json:"dropout,omitempty"`
	// Tie ties gpt's output head to its token embedding.
	Tie bool `json:"tie,omitempty"`
	// Hidden lists the hidden widths of mlp and charmlp. nil means the
	// default (mlp: [256]; charmlp: [200]); an empty non-nil slice means a
	// single layer.
	Hidden []int `json:"hidden"`
	// Act is the hidden activation (default relu; charmlp: tanh).
	Act string `json:"act,omitempty"`
	// OutAct is the output activation of mlp (default none).
	OutAct string `json:"out_act,omitempty"`
	// Loss is ce, nll, mse or half-sq (default: ce for classification, mse
	// for regression).
	Loss string `json:"loss"`

	// Opt names the direction: sgd, momentum, nesterov, adam (default;
	// gpt: adamw), adamw, rmsprop, adagrad, lion.
	Opt string `json:"opt"`
	// WeightDecay and ClipNorm are the optimizer's common options (default
	// 0, except gpt: weight decay 0.1, nanoGPT's).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	ClipNorm    float64 `json:"clip_norm,omitempty"`
	// Beta2 is β₂ of adam and adamw (default 0.999; gpt: 0.99, nanoGPT's).
	Beta2 float64 `json:"beta2,omitempty"`

	// LR names the learning-rate rule: gen (approximate GeN), gen-exact,
	// gen-trust[:κ] and gen-exact-trust[:κ] (GeN inside the trust-ratio test
	// of package peer, the step scaled by κ ≤ κmax), sps, sls, or a
	// schedule const:X, cosine:X, linear:X, step:X. Default: gen (with the
	// Mean estimator for adaptive directions: its rate comes from the
	// probes on every step, and it beat the former default gen-trust:2 on
	// MNIST over five seeds, docs/results/mnist-default.md).
	LR string `json:"lr"`
	// Estimator is how GeN turns its probes into a rate: mean (the ratio
	// of the averaged slope and curvature; the default for adaptive
	// directions) or smoothed (the source text's average of per-probe
	// minimizers; the default for the SGD family). See gen.Estimator.
	Estimator string `json:"estimator,omitempty"`
	// Groups is all (default: one rate for the whole direction) or layer
	// (per-layer GeN, gen.Block: one rate per layer, from the quadratic
	// model in the layers' step sizes), for gen and gen-exact.
	Groups string `json:"groups,omitempty"`
	// Every is Φ, the GeN recomputation period (default: gen 4, gen-exact 1).
	Every int `json:"every,omitempty"`
	// Eager probes every one of the first Eager steps, whatever Every
	// (gen.ApproxConfig.Eager). nil means the default: 10 for the GeN
	// rules with the Mean estimator — Adam's momentum time 1/(1 − β₁) at
	// β₁ = 0.9, while its direction turns from one step to the next — and 0
	// otherwise; a pointer so that 0 can be asked for. On the character
	// model it removes the start's ten steps of rising loss
	// (docs/results/adam-horizon.md).
	Eager *int `json:"eager,omitempty"`
	// Gamma is γ, the GeN smoothing (default: gen 0.9 — with the Mean
	// estimator the shortest window of its growing averages — and gen-exact
	// 0.9 with Mean, 0 with Smoothed; the gpt model's default rule
	// 1 − Φ(1−β₂), see gptDefaults). nil means the default; a pointer so
	// that 0 can be asked for.
	Gamma *float64 `json:"gamma,omitempty"`
	// LR0 is where the automatic start begins its bracket of probe sizes
	// (with the Mean estimator; default 0: 1e-3) or, with Smoothed, GeN's
	// first learning rate (default 0: automatic start; gpt 1e-3, see
	// gptDefaults).
	LR0 float64 `json:"lr0,omitempty"`
	// LRMin and LRMax bound GeN's learning rate (default: none).
	LRMin float64 `json:"lr_min,omitempty"`
	LRMax float64 `json:"lr_max,omitempty"`
	// Curvature is hessian (default) or gauss-newton, for gen-exact.
	Curvature string `json:"curvature,omitempty"`
	// Probe is the line's batch: fresh (default), same or stream.
	Probe string `json:"probe,omitempty"`
	// Policy is the GeN failure policy: fallback, keep, shrink, project or
	// recall (approximate GeN only; see gen.Recall) (default keep: no fixed rate enters a run unless asked for;
	// the gpt model's default rule project, see gptDefaults). A fallback to the fixed rate 1e-3 knocks SGD's rate
	// (typically 0.1–1) down by orders of magnitude every time a fresh
	// probe sees a non-descent direction, which 15–40 % do; keeping the
	// previous rate lowered GeN-SGD's final loss on every task of both
	// comparison suites (docs/results). With the Smoothed estimator on Adam
	// directions, keep lets the rate drift upward (MNIST, 3 epochs, seed 1:
	// 95.2 % with --estimator smoothed --policy keep, 97.4 % with
	// fallback); the Mean estimator does not drift, and its failures
	// (averaged slope or curvature ≤ 0) are rare.
	Policy string `json:"policy,omitempty"`
	// FallbackLR is the Fallback policy's learning rate (default 1e-3).
	FallbackLR float64 `json:"fallback_lr,omitempty"`
	// ProbeFactor scales approximate GeN's probe size (default 1).
	ProbeFactor float64 `json:"probe_factor,omitempty"`
	// MaxChange clips approximate GeN's Δ to [α/r, r·α] (default 2, as the
	// authors' code; negative: no clipping). On MNIST with Adam directions
	// the clip keeps single noisy estimates from running the rate away
	// (plain --lr gen, seeds 1–5: 97.45 % mean test accuracy with it; without
	// it seed 4 diverges, 16.8 %; scripts/mnist-default).
	MaxChange float64 `json:"max_change,omitempty"`
	// Trend is approximate GeN's watch on its probes' losses at θ
	// (gen.ApproxConfig.Trend): over the last Trend probes a significant
	// rise fails the probe (reason rising). Default 0: off; the gpt
	// model's default rule watches 1/(1−β₂)/Φ probes (25: Adam's
	// second-moment time, 100 steps). Negative: off.
	Trend int `json:"trend,omitempty"`
	// TrendZ is the watch's threshold in standard errors
	// (gen.ApproxConfig.TrendZ; default 2).
	TrendZ float64 `json:"trend_z,omitempty"`
	// FivePoint makes approximate GeN fit 5 points by least squares.
	FivePoint bool `json:"five_point,omitempty"`
	// Horizon is none, linear, cosine, cooldown (linear to 0 over the last
	// 20 % of the steps) or sqrt-cooldown (the same stretch, 1 − √ in
	// shape): a factor on GeN's rate (default: cooldown for the GeN rules,
	// the gpt model's default rule sqrt-cooldown; none otherwise).
	Horizon string `json:"horizon,omitempty"`
	// Anneal says what a cooldown horizon anneals: rule (the default) scales
	// the GeN rule's own rate at every step while the rule keeps probing;
	// level anneals the level the rule held before the cooldown — the
	// geometric mean of its applied rates over its averaging time,
	// Φ/(1−γ) steps — and the rule stops probing (gen.Anneal; on the gpt
	// model 0.0009 higher than rule over 90 seeds, with a fifth fewer
	// probes).
	Anneal string `json:"anneal,omitempty"`
	// Window is how far back the Mean estimator's averages reach: grow
	// (default: exponential with γ until the run is 1/(1−γ) probes long,
	// then means over the whole run, so that at a noise floor the rate falls
	// as 1/√t) or fixed (exponential with γ throughout: the rate halves once
	// per window at a floor). See gen.ApproxConfig.FixedWindow.
	Window string `json:"window,omitempty"`
	// Warmup is the number of linear warm-up steps of a schedule (default 0).
	Warmup int `json:"warmup,omitempty"`

	// Epochs is the number of passes over the training set (default 3;
	// the cnn model 5; synthetic and teacher data 200, a small set of 1000
	// examples).
	Epochs int `json:"epochs"`
	// Steps, when positive, is the number of steps instead of Epochs
	// (default for gpt: 2000, nanoGPT's small-CPU recipe).
	Steps int `json:"steps,omitempty"`
	// Batch is the batch size (default 128; synthetic and teacher data 32,
	// as the source text's author's demo; gpt 12 sequences).
	Batch int `json:"batch"`
	// EvalEvery evaluates the test (validation) loss, and writes a
	// checkpoint, every this many steps as well as at the end of each epoch
	// (default 0: epoch ends only; gpt 250).
	EvalEvery int `json:"eval_every,omitempty"`
	// Seed fixes the initialization, the data order and dropout (default 0;
	// the command's default is 1).
	Seed uint64 `json:"seed"`
	// Threads is the GEMM thread count (default: the kernel's default).
	Threads int `json:"threads,omitempty"`
	// Precision is f32 (default) or f64.
	Precision string `json:"precision"`
	// CheckpointEvery writes a checkpoint every this many steps (default:
	// at the end of each epoch, and at the end of the run).
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// Samples is the number of lines a charmlp run samples at the end
	// (default 3).
	Samples int `json:"samples,omitempty"`
	// Dist is none (default) or mpi: data parallelism over the processes
	// of mpirun (a binary built with -tags mpi; see docs/distributed.md).
	Dist string `json:"dist,omitempty"`
	// DistTimeout is the longest, in seconds, a rank waits in a collective
	// for the others before the run fails (default 20).
	DistTimeout float64 `json:"dist_timeout,omitempty"`
}

// genRule reports whether --lr names a GeN rule (gen, gen-exact,
// gen-trust[:κ]): the rules that a horizon and eager probing apply to.
func (c Config) genRule() bool { return strings.HasPrefix(c.LR, "gen") }

// eager is Eager's value, 0 where unset.
func (c Config) eager() int {
	if c.Eager == nil {
		return 0
	}
	return *c.Eager
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Data, "mnist")
	def(&c.Model, "mlp")
	if c.Model == "gpt" {
		c = c.gptDefaults()
	}
	def(&c.Opt, "adam")
	if c.LR == "" {
		c.LR = "gen"
	}
	def(&c.Probe, "fresh")
	if c.Estimator == "" {
		c.Estimator = "mean"
		if sgdFamily(c.Opt) {
			c.Estimator = "smoothed"
		}
	}
	def(&c.Curvature, "hessian")
	if c.Eager == nil {
		n := 0
		if c.genRule() && c.Estimator == "mean" {
			n = 10
		}
		c.Eager = &n
	}
	def(&c.Policy, "keep")
	def(&c.Window, "grow")
	def(&c.Groups, "all")
	if c.Horizon == "" {
		// A GeN rule's rate is its estimate until the last 20 % of the
		// run, then anneals to 0 (gen.Cooldown): on MNIST, the character
		// model, softmax regression and the GPT this ends lower than the
		// estimate alone, at every run length measured
		// (docs/results/adam-horizon.md, docs/results/gpt.md).
		c.Horizon = "none"
		if c.genRule() {
			c.Horizon = "cooldown"
		}
	}
	def(&c.Dist, "none")
	def(&c.Anneal, "rule")
	def(&c.Precision, "f32")
	def(&c.OutAct, "none")
	if c.Act == "" {
		c.Act = "relu"
		if c.Model == "charmlp" {
			c.Act = "tanh"
		}
	}
	if c.Hidden == nil {
		c.Hidden = []int{256}
		if c.Model == "charmlp" {
			c.Hidden = []int{200}
		}
	}
	small := c.Data == "synthetic" || c.Data == "teacher"
	if c.Epochs == 0 {
		c.Epochs = 3
		switch {
		case small:
			c.Epochs = 200
		case c.Model == "cnn":
			c.Epochs = 5
		}
	}
	if c.Batch == 0 {
		c.Batch = 128
		if small {
			c.Batch = 32
		}
	}
	if c.MaxChange == 0 {
		c.MaxChange = 2
	}
	if c.Samples == 0 {
		c.Samples = 3
	}
	if strings.HasPrefix(c.Data, "csv:") && c.Task == "" {
		c.Task = "classification"
	}
	return c
}

// approxOneRate reports whether the rule is approximate GeN with one rate
// (gen.Approx, possibly inside the trust test): the rule the Recall policy
// and the trend watch belong to.
func (c Config) approxOneRate() bool {
	inner, _, _, _ := peerTrust(c.LR)
	return (c.LR == "gen" || inner == "gen") && c.Groups != "layer"
}

// sgdFamily reports whether opt names a direction of the SGD family, whose
// learning-rate defaults differ from those of adaptive directions.
func sgdFamily(opt string) bool { return opt == "sgd" || opt == "momentum" || opt == "nesterov" }

func oneOf(what, v string, valid []string) error {
	for _, s := range valid {
		if v == s {
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q; valid: %s", what, v, strings.Join(valid, ", "))
}

// Validate checks the names and numbers of a defaulted Config and says
// which setting is wrong and what the valid values are.
func (c Config) Validate() error {
	checks := []error{
		oneOf("--model", c.Model, []string{"mlp", "cnn", "charmlp", "gpt"}),
		oneOf("--opt", c.Opt, append(optim.Names(), optim.PeerNames()...)),
		oneOf("--curvature", c.Curvature, []string{"hessian", "gauss-newton"}),
		oneOf("--precision", c.Precision, []string{"f32", "f64"}),
		oneOf("--horizon", c.Horizon, gen.HorizonNames()),
		oneOf("--anneal", c.Anneal, []string{"rule", "level"}),
		oneOf("--window", c.Window, []string{"grow", "fixed"}),
		oneOf("--groups", c.Groups, []string{"all", "layer"}),
		oneOf("--dist", c.Dist, dist.Kinds()),
	}
	if c.Task != "" {
		checks = append(checks, oneOf("--task", c.Task, []string{"classification", "regression"}))
	}
	if c.Loss != "" {
		_, err := loss.Parse(c.Loss)
		checks = append(checks, err)
	}
	if _, err := probe.ParseMode(c.Probe); err != nil {
		checks = append(checks, err)
	}
	if _, err := gen.ParsePolicy(c.Policy); err != nil {
		checks = append(checks, err)
	}
	if c.Policy == "recall" && !c.approxOneRate() {
		checks = append(checks, fmt.Errorf("--policy recall applies to approximate GeN with one rate (--lr gen or gen-trust, --groups all), not --lr %s --groups %s: use fallback, keep, shrink or project", c.LR, c.Groups))
	}
	if _, err := gen.ParseEstimator(c.Estimator); err != nil {
		checks = append(checks, fmt.Errorf("--estimator: %w", err))
	}
	for _, a := range []string{c.Act, c.OutAct} {
		if _, err := ad.ParseAct(a); err != nil {
			checks = append(checks, err)
		}
	}
	if c.LR != "gen" && c.LR != "gen-exact" && c.LR != "sps" && c.LR != "sls" {
		if _, _, ok, err := peerTrust(c.LR); ok {
			checks = append(checks, err)
		} else if _, err := gen.ParseSchedule(c.LR, 1); err != nil {
			checks = append(checks, fmt.Errorf("--lr: %w; or gen, gen-exact, sps, sls, gen-trust[:κmax], gen-exact-trust[:κmax]", err))
		}
	}
	if !strings.HasPrefix(c.Data, "csv:") && !strings.HasPrefix(c.Data, "text:") {
		checks = append(checks, oneOf("--data", c.Data, data.Specs()))
	}
	for _, e := range checks {
		if e != nil {
			return e
		}
	}
	if err := c.validateGPT(); err != nil {
		return err
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("--hidden: widths must be positive, got %v", c.Hidden)
		}
	}
	floats := map[string]float64{"--lr0": c.LR0, "--lr-min": c.LRMin, "--lr-max": c.LRMax, "--fallback-lr": c.FallbackLR,
		"--probe-factor": c.ProbeFactor, "--clip-norm": c.ClipNorm, "--weight-decay": c.WeightDecay, "--max-change": c.MaxChange}
	if c.Gamma != nil {
		floats["--gamma"] = *c.Gamma
	}
	for name, v := range floats {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %g: must be a finite number", name, v)
		}
	}
	switch {
	case c.DistTimeout < 0 || math.IsNaN(c.DistTimeout):
		return fmt.Errorf("--dist-timeout %g: must be a positive number of seconds (or 0 for the default)", c.DistTimeout)
	case c.Epochs < 0 || c.Steps < 0 || c.Batch < 0 || c.CheckpointEvery < 0 || c.Warmup < 0 || c.Samples < 0 || c.EvalEvery < 0:
		return fmt.Errorf("--epochs, --steps, --batch, --checkpoint-every, --eval-every and --warmup must not be negative")
	case c.Threads < 0:
		return fmt.Errorf("--threads %d: must be positive (0: the kernel's choice)", c.Threads)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("--beta2 %g: must be in [0, 1)", c.Beta2)
	case c.Beta2 > 0 && c.Opt != "adam" && c.Opt != "adamw":
		return fmt.Errorf("--beta2 applies to adam and adamw, not --opt %s", c.Opt)
	case c.FallbackLR < 0 || c.ProbeFactor < 0 || c.ClipNorm < 0:
		return fmt.Errorf("--fallback-lr, --probe-factor and --clip-norm must not be negative")
	case c.WeightDecay < 0:
		return fmt.Errorf("--weight-decay %g: must not be negative", c.WeightDecay)
	case c.Gamma != nil && (*c.Gamma < 0 || *c.Gamma >= 1):
		return fmt.Errorf("--gamma %g: must be in [0, 1)", *c.Gamma)
	case c.LRMax > 0 && c.LRMax <= c.LRMin:
		return fmt.Errorf("--lr-max %g must exceed --lr-min %g", c.LRMax, c.LRMin)
	case c.LR0 < 0 || c.LRMin < 0 || c.LRMax < 0:
		return fmt.Errorf("--lr0, --lr-min and --lr-max must not be negative")
	case c.Trend > 0 && !c.approxOneRate():
		return fmt.Errorf("--trend applies to approximate GeN with one rate (--lr gen or gen-trust, --groups all), not --lr %s --groups %s: drop --trend", c.LR, c.Groups)
	case c.TrendZ < 0 || math.IsNaN(c.TrendZ) || math.IsInf(c.TrendZ, 0):
		return fmt.Errorf("--trend-z %g: must be a positive number of standard errors (default 2)", c.TrendZ)
	case c.TrendZ > 0 && c.Trend <= 0:
		return fmt.Errorf("--trend-z %g sets the threshold of the --trend watch, which is off: add --trend N or drop --trend-z", c.TrendZ)
	case c.Anneal == "level" && (!c.genRule() || (c.Horizon != "cooldown" && c.Horizon != "sqrt-cooldown")):
		return fmt.Errorf("--anneal level anneals a GeN rule's level over a cooldown: it needs --lr gen, gen-exact, gen-trust[:κ] or gen-exact-trust[:κ] and --horizon cooldown or sqrt-cooldown, not --lr %s --horizon %s; or use --anneal rule", c.LR, c.Horizon)
	case c.Anneal == "level" && c.Groups == "layer":
		return fmt.Errorf("--anneal level anneals one level, and --groups layer has one rate per layer: use --anneal rule or --groups all")
	case c.MaxChange > 0 && c.MaxChange <= 1:
		return fmt.Errorf("--max-change %g: must be > 1 (or negative for none)", c.MaxChange)
	case c.Groups == "layer" && c.LR != "gen" && c.LR != "gen-exact":
		return fmt.Errorf("--groups layer: per-layer rates need --lr gen or gen-exact, not %s", c.LR)
	case c.Every < 0:
		return fmt.Errorf("--every %d: must be positive", c.Every)
	case c.Eager != nil && *c.Eager < 0:
		return fmt.Errorf("--eager %d: must be 0 or more steps", *c.Eager)
	case c.Eager != nil && *c.Eager > 0 && !c.genRule():
		return fmt.Errorf("--eager %d with --lr %s: eager probing applies to the GeN rules only; drop --eager", *c.Eager, c.LR)
	case c.Warmup > 0 && (c.LR == "sps" || c.LR == "sls"):
		return fmt.Errorf("--warmup %d with --lr %s: the warm-up applies to schedules and GeN rules, and %s sets every step's rate itself; drop --warmup", c.Warmup, c.LR, c.LR)
	}
	return nil
}

// rule builds the learning-rate rule for a run of the given length.
func (c Config) rule(steps int) (gen.Rule, error) {
	if c.Anneal == "level" {
		hor, err := gen.ParseHorizon(c.Horizon, steps)
		if err != nil {
			return nil, err
		}
		inner := c
		inner.Anneal, inner.Horizon = "rule", "none" // the warm-up stays: it is c.Warmup
		r, err := inner.rule(steps)
		if err != nil {
			return nil, err
		}
		// The level's window is the rule's own memory, Φ/(1−γ) (gen.Averaging).
		return gen.NewAnneal(r, gen.AnnealConfig{Horizon: hor, LRMin: c.LRMin, LRMax: c.LRMax}), nil
	}
	pol, err := gen.ParsePolicy(c.Policy)
	if err != nil {
		return nil, err
	}
	hor, err := gen.ParseHorizon(c.Horizon, steps)
	if err != nil {
		return nil, err
	}
	est, err := gen.ParseEstimator(c.Estimator)
	if err != nil {
		return nil, err
	}
	hor.Warmup = c.Warmup
	lim := gen.Limits{LRMin: c.LRMin, LRMax: c.LRMax, Policy: pol, FallbackLR: c.FallbackLR, Horizon: hor}
	// The peers' cap growth follows the authors' code: doubling once per
	// epoch, where the run is given in epochs.
	period := 0
	if c.Steps == 0 && c.Epochs > 0 {
		period = steps / c.Epochs
	}
	if inner, kmax, ok, err := peerTrust(c.LR); ok {
		if err != nil {
			return nil, err
		}
		c.LR = inner
		r, err := c.rule(steps)
		if err != nil {
			return nil, err
		}
		return peer.NewTrust(r, peer.TrustConfig{MaxScale: kmax, LRMin: c.LRMin, LRMax: c.LRMax}), nil
	}
	switch c.LR {
	case "sps":
		return peer.NewSPS(peer.SPSConfig{Period: period}), nil
	case "sls":
		return peer.NewSLS(peer.SLSConfig{Period: period}), nil
	}
	// γ when set (0 meaning no smoothing), and the curvature of exact GeN.
	gamma, noSmoothing, curv := 0.0, false, ad.Hessian
	if c.Gamma != nil {
		gamma, noSmoothing = *c.Gamma, *c.Gamma == 0
	}
	if c.Curvature == "gauss-newton" {
		curv = ad.GaussNewton
	}
	switch {
	case (c.LR == "gen" || c.LR == "gen-exact") && c.Groups == "layer":
		return gen.NewBlock(gen.BlockConfig{Limits: lim, Exact: c.LR == "gen-exact", Curvature: curv, Gamma: gamma, NoSmoothing: noSmoothing,
			Every: c.Every, Eager: c.eager(), FixedWindow: c.Window == "fixed", MaxChange: c.MaxChange, LR0: c.LR0}), nil
	case c.LR == "gen":
		return gen.NewApprox(gen.ApproxConfig{Limits: lim, Estimator: est, LR0: c.LR0, Gamma: gamma, NoSmoothing: noSmoothing,
			Every: c.Every, Eager: c.eager(), FixedWindow: c.Window == "fixed", ProbeFactor: c.ProbeFactor, MaxChange: max(c.MaxChange, 0), FivePoint: c.FivePoint, Trend: max(c.Trend, 0), TrendZ: c.TrendZ}), nil
	case c.LR == "gen-exact":
		return gen.NewExact(gen.ExactConfig{Limits: lim, Estimator: est, Curvature: curv, Gamma: gamma, NoSmoothing: noSmoothing, Every: c.Every, Eager: c.eager(), FixedWindow: c.Window == "fixed"}), nil
	}
	s, err := gen.ParseSchedule(c.LR, steps)
	if err != nil {
		return nil, err
	}
	s.Warmup = c.Warmup
	return s, nil
}
