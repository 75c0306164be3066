package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/genopt/gen/train"
)

var (
	errHelp  = errors.New("help shown")
	errUsage = errors.New("usage error")
)

// intList is a flag holding comma-separated positive integers; "" is an
// empty (non-nil) list.
type intList struct{ v *[]int }

func (l intList) String() string {
	if l.v == nil || *l.v == nil {
		return ""
	}
	s := make([]string, len(*l.v))
	for i, x := range *l.v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (l intList) Set(s string) error {
	out := []int{}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	*l.v = out
	return nil
}

// opt is a flag that remembers whether it was set: *v stays nil until it
// is, so that a Config field's nil means its default.
type opt[T any] struct {
	v      **T
	parse  func(string) (T, error)
	format func(T) string
}

func (o opt[T]) String() string {
	if o.v == nil || *o.v == nil {
		return ""
	}
	return o.format(**o.v)
}

func (o opt[T]) Set(s string) error {
	x, err := o.parse(s)
	if err != nil {
		return err
	}
	*o.v = &x
	return nil
}

// optFloat, optInt and optBool are opt flags of float64, int and bool.
func optFloat(v **float64) opt[float64] {
	return opt[float64]{v, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) },
		func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }}
}

func optInt(v **int) opt[int] { return opt[int]{v, strconv.Atoi, strconv.Itoa} }

func optBool(v **bool) boolOpt { return boolOpt{opt[bool]{v, strconv.ParseBool, strconv.FormatBool}} }

// boolOpt is an opt[bool] that may stand alone for true (--standardize).
type boolOpt struct{ opt[bool] }

// IsBoolFlag lets --standardize stand alone for true.
func (boolOpt) IsBoolFlag() bool { return true }

// configFlags registers the flags that fill a train.Config; the flag names
// are the Config field names in kebab case.
func configFlags(fs *flag.FlagSet, c *train.Config) {
	c.Hidden = []int{256}
	c.Seed = 1
	fs.StringVar(&c.Data, "data", "mnist", "data set: mnist, csv:PATH, synthetic, teacher, text, text:PATH")
	fs.StringVar(&c.DataDir, "data-dir", "", "folder holding the MNIST files (default: the Go module cache)")
	fs.StringVar(&c.Target, "target", "", "CSV target column, by name or 0-based index (default: last)")
	fs.StringVar(&c.Task, "task", "", "classification or regression (CSV data; others fix it)")
	fs.Var(optBool(&c.Standardize), "standardize", "standardise CSV features with the training split's statistics (default true; --standardize=false keeps raw values)")
	fs.StringVar(&c.Model, "model", "mlp", "model: mlp, cnn, charmlp, gpt (a character-level transformer; --data text)")
	fs.IntVar(&c.Layers, "layers", 0, "gpt: number of transformer blocks (default 4)")
	fs.IntVar(&c.Heads, "heads", 0, "gpt: attention heads (default 4)")
	fs.IntVar(&c.Embed, "embed", 0, "gpt: embedding width (default 128)")
	fs.IntVar(&c.Context, "context", 0, "text window: characters a charmlp sees (default 32), gpt's sequence length (default 64)")
	fs.Float64Var(&c.Dropout, "dropout", 0, "gpt: dropout probability (default 0)")
	fs.BoolVar(&c.Tie, "tie", false, "gpt: tie the output head to the token embedding")
	fs.Var(intList{&c.Hidden}, "hidden", "hidden layer widths, comma-separated; empty for a single layer (charmlp default 200)")
	fs.StringVar(&c.Act, "act", "", "hidden activation: relu, leaky-relu, tanh, sigmoid, gelu, silu, softplus, identity (default relu; charmlp tanh)")
	fs.StringVar(&c.OutAct, "out-act", "none", "output activation (mlp)")
	fs.StringVar(&c.Loss, "loss", "", "loss: ce, nll, mse, half-sq (default ce for classification, mse for regression)")
	fs.StringVar(&c.Opt, "opt", "", "direction (default adam; gpt adamw): sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad, lion; the learning-rate-free peers dadapt-adam, dadapt-sgd, prodigy, dog (run them with --lr const:1)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 0, "weight decay λ (coupled L2; decoupled for adamw and lion; gpt default 0.1)")
	fs.Float64Var(&c.Beta2, "beta2", 0, "β₂ of adam and adamw (default 0.999; gpt 0.99)")
	fs.Float64Var(&c.ClipNorm, "clip-norm", 0, "clip gradients to this global L2 norm (0: off)")
	fs.StringVar(&c.LR, "lr", "", "learning rate: gen, gen-exact, gen-trust[:κ], gen-exact-trust[:κ], sps, sls, const:X, cosine:X[:final], linear:X, step:X (default gen; gpt gen-trust:4)")
	fs.StringVar(&c.Estimator, "estimator", "", "how GeN averages its probes: mean (ratio of averaged slope and curvature), smoothed (average of per-probe rates) (default: mean; for sgd, momentum, nesterov smoothed)")
	fs.StringVar(&c.Groups, "groups", "all", "GeN rates: all (one rate) or layer (one per layer, from the quadratic model in the layers' step sizes)")
	fs.IntVar(&c.Every, "every", 0, "Φ: recompute GeN's learning rate every Φ steps (default gen 4, gen-exact 1)")
	fs.Var(optInt(&c.Eager), "eager", "probe GeN's line on every one of the first N steps, then every Φ (default 10 with --estimator mean: Adam's momentum time; else 0)")
	fs.Var(optFloat(&c.Gamma), "gamma", "γ: GeN smoothing in [0, 1) (default 0.9; with --estimator mean the shortest window of its growing averages; smoothed: gen-exact 0; gpt's default GeN rule 1 − Φ(1−β₂) = 0.96)")
	fs.Float64Var(&c.LR0, "lr0", 0, "where GeN's automatic start begins its bracket (with --estimator mean; with smoothed: the first learning rate) (default 1e-3)")
	fs.Float64Var(&c.LRMin, "lr-min", 0, "lower bound of GeN's learning rate")
	fs.Float64Var(&c.LRMax, "lr-max", 0, "upper bound of GeN's learning rate (0: none)")
	fs.StringVar(&c.Curvature, "curvature", "hessian", "gen-exact curvature: hessian, gauss-newton")
	fs.StringVar(&c.Probe, "probe", "fresh", "batch GeN probes: fresh (next batch), same (the gradient's batch), stream (independent)")
	fs.StringVar(&c.Policy, "policy", "", "when GeN's estimate is unusable: keep, fallback, shrink, project, recall (the geometric mean of the run's accepted estimates; approximate GeN) (default keep; gpt's default GeN rule project)")
	fs.Float64Var(&c.FallbackLR, "fallback-lr", 0, "learning rate of --policy fallback (default 1e-3)")
	fs.Float64Var(&c.ProbeFactor, "probe-factor", 0, "approximate GeN probes at factor·α (default 1)")
	fs.Float64Var(&c.TrendZ, "trend-z", 0, "approximate GeN: the --trend watch's threshold in standard errors of the slope (default 2)")
	fs.IntVar(&c.Trend, "trend", 0, "approximate GeN: fail a probe when the last N probes' losses rose significantly (default off; gpt 25; negative: off)")
	fs.Float64Var(&c.MaxChange, "max-change", 0, "clip approximate GeN's estimate to [α/r, r·α] (default 2, as the authors' code; negative: off)")
	fs.BoolVar(&c.FivePoint, "five-point", false, "approximate GeN: least-squares fit through 5 points")
	fs.StringVar(&c.Window, "window", "", "how far back the Mean estimator averages its probes: grow (default: over the whole run once it is longer than 1/(1−γ) probes) or fixed (the last ~1/(1−γ))")
	fs.StringVar(&c.Horizon, "horizon", "", "factor on GeN's rate: none, linear, cosine, cooldown (linear to 0 over the last 20 % of the steps; the default for GeN rules), sqrt-cooldown (the same stretch, 1 − √ in shape; gpt's default GeN rule)")
	fs.StringVar(&c.Anneal, "anneal", "", "what a cooldown horizon anneals: rule (the GeN rule's own rate, as it keeps probing; the default) or level (the level the rule held before the cooldown, without further probes)")
	fs.IntVar(&c.Warmup, "warmup", 0, "linear warm-up steps of a schedule or of GeN's rate (the factor min(1, (t+1)/W); default 0, gpt's default GeN rule 2/(1−β₂) = 200)")
	fs.IntVar(&c.Epochs, "epochs", 0, "passes over the training set (default 3; cnn 5; synthetic, teacher 200)")
	fs.IntVar(&c.Steps, "steps", 0, "number of steps (overrides --epochs when > 0; gpt default 2000)")
	fs.IntVar(&c.Batch, "batch", 0, "batch size (default 128; synthetic, teacher 32; gpt 12 sequences)")
	fs.IntVar(&c.EvalEvery, "eval-every", 0, "also evaluate the test/validation loss and checkpoint every this many steps (default: epoch ends; gpt 250)")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed (initialization, data order, dropout)")
	fs.IntVar(&c.Threads, "threads", 0, "GEMM threads (default: the kernel's choice)")
	fs.StringVar(&c.Precision, "precision", "f32", "f32 or f64")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", 0, "also write a checkpoint every this many steps")
	fs.StringVar(&c.Dist, "dist", "none", "data parallelism: none, or mpi (run under mpirun -np N; the binary built with -tags mpi; docs/distributed.md)")
	fs.Float64Var(&c.DistTimeout, "dist-timeout", 0, "with --dist mpi: seconds a rank waits for the others in a collective before the run fails (default 20)")
}

// parse parses args into fs, turning --help into errHelp and a bad flag
// into errUsage (the flag package has printed the message).
func parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}

// setHidden fixes the default of --hidden for charmlp when it was not given.
func setHidden(fs *flag.FlagSet, c *train.Config) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "hidden" })
	if !given {
		c.Hidden = nil
	}
}
