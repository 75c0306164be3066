package compare

import (
	"fmt"
	"math"
	"strconv"

	"github.com/genopt/gen/train"
)

// Task is one training problem of a suite.
type Task struct {
	// Name is a short identifier used in file names (e.g. "mnist-mlp").
	Name string
	// Title describes the task in the report.
	Title string
	// Base holds the data, model and length of every run of the task; a
	// method sets the optimizer and the learning-rate rule on top of it.
	Base train.Config
	// SGDGrid and AdamGrid are the constant learning rates tried (default:
	// 7 log-spaced values, 10^−2.5…10^0.5 for SGD — the first grid, 1e-3…1,
	// put SGD's best rate at its top edge on three tasks — and 1e-4…1e-1 for
	// Adam).
	SGDGrid, AdamGrid []float64
	// Metric is what ranks the methods: Training (the zero value: the
	// final trailing-mean training loss) or Validation (the final
	// validation loss, for the GPT).
	Metric Metric `json:",omitempty"`
}

// Metric is the quantity a task's methods are ranked by.
type Metric int

const (
	// Training ranks by the final trailing-mean training loss.
	Training Metric = iota
	// Validation ranks by the final validation (test) loss.
	Validation
)

// Method is one way of choosing the learning rate (and the direction).
type Method struct {
	// Name labels the method in tables and charts.
	Name string
	// Group is "main", "grid", "sensitivity" or "remedy".
	Group string
	// Set applies the method to a copy of the task's base configuration.
	Set func(*train.Config)
}

// Suite is the list of runs a comparison makes.
type Suite struct {
	// Name is "quick", "full" or "tiny".
	Name string
	// Tasks are compared one after the other.
	Tasks []Task
	// Seeds are the random seeds of every main method (the grid runs on
	// the first one only).
	Seeds []uint64
	// Peers runs D-Adaptation, Prodigy, DoG, SPS and SLS.
	Peers bool
	// Sensitivity names the tasks on which the GeN sensitivity variants
	// run, on the first seed.
	Sensitivity []string
	// Remedies names the tasks on which the remedies run, on the first
	// RemedySeeds seeds (default 1).
	Remedies    []string
	RemedySeeds int
	// Window is the trailing window, in steps, of the smoothed training
	// loss (default: a tenth of the run, between 1 and 100 steps).
	Window int
}

// LogGrid returns n ≥ 2 values spaced evenly in log scale from lo to hi.
func LogGrid(lo, hi float64, n int) []float64 {
	if n < 2 || !(lo > 0) || !(hi > lo) {
		panic(fmt.Sprintf("compare: LogGrid(%g, %g, %d): want 0 < lo < hi and n ≥ 2", lo, hi, n))
	}
	out := make([]float64, n)
	for i := range out {
		// Rounded to 3 significant digits so that commands stay readable.
		v := lo * math.Pow(hi/lo, float64(i)/float64(n-1))
		out[i], _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	}
	return out
}

func (t Task) grids() (sgd, adam []float64) {
	sgd, adam = t.SGDGrid, t.AdamGrid
	if sgd == nil {
		sgd = LogGrid(math.Pow(10, -2.5), math.Pow(10, 0.5), 7)
	}
	if adam == nil {
		adam = LogGrid(1e-4, 1e-1, 7)
	}
	return sgd, adam
}

func set(opt, lr string, more ...func(*train.Config)) func(*train.Config) {
	return func(c *train.Config) {
		c.Opt, c.LR = opt, lr
		for _, m := range more {
			m(c)
		}
	}
}

func probeSame(c *train.Config) { c.Probe = "same" }

// GeNMethods are GeN with default settings: approximate and exact, on SGD
// and on Adam.
func GeNMethods() []Method {
	return []Method{
		{"GeN-SGD", "main", set("sgd", "gen")},
		{"GeN-exact-SGD", "main", set("sgd", "gen-exact")},
		{"GeN-Adam", "main", set("adam", "gen")},
		{"GeN-exact-Adam", "main", set("adam", "gen-exact")},
	}
}

// PeerMethods are the learning-rate-free peers with their published
// defaults; SPS and SLS read the line on the gradient's own batch, as
// published.
func PeerMethods() []Method {
	return []Method{
		{"D-Adapt-Adam", "main", set("dadapt-adam", "const:1")},
		{"D-Adapt-SGD", "main", set("dadapt-sgd", "const:1")},
		{"Prodigy", "main", set("prodigy", "const:1")},
		{"DoG", "main", set("dog", "const:1")},
		{"SPS", "main", set("sgd", "sps", probeSame)},
		{"SLS", "main", set("sgd", "sls", probeSame)},
	}
}

// SensitivityMethods vary one setting of GeN at a time around approximate
// GeN-Adam with fresh probes (and GeN-SGD for the probe batch).
func SensitivityMethods() []Method {
	g := func(x float64) *float64 { return &x }
	var ms []Method
	add := func(name string, s func(*train.Config)) { ms = append(ms, Method{name, "sensitivity", s}) }
	for _, opt := range []string{"sgd", "adam"} {
		for _, p := range []string{"same", "fresh", "stream"} {
			add(fmt.Sprintf("%s probe=%s", opt, p), set(opt, "gen", func(c *train.Config) { c.Probe = p }))
		}
	}
	for _, x := range []float64{0, 0.5, 0.98, 0.99} {
		add(fmt.Sprintf("adam γ=%g", x), set("adam", "gen", func(c *train.Config) { c.Gamma = g(x) }))
	}
	for _, x := range []int{1, 8, 16} {
		add(fmt.Sprintf("adam Φ=%d", x), set("adam", "gen", func(c *train.Config) { c.Every = x }))
	}
	for _, x := range []float64{0.5, 2} {
		add(fmt.Sprintf("adam probe factor %g", x), set("adam", "gen", func(c *train.Config) { c.ProbeFactor = x }))
	}
	add("adam 5 points", set("adam", "gen", func(c *train.Config) { c.FivePoint = true }))
	for _, b := range []int{64, 256} {
		add(fmt.Sprintf("adam batch %d", b), set("adam", "gen", func(c *train.Config) {
			// The same number of examples: steps scale inversely.
			base := c.Batch
			if base == 0 {
				base = 128
			}
			if c.Steps > 0 {
				c.Steps = max(1, c.Steps*base/b)
			}
			c.Batch = b
		}))
	}
	for _, h := range []string{"none", "linear", "cosine"} {
		add("adam horizon "+h, set("adam", "gen", func(c *train.Config) { c.Horizon = h }))
	}
	add("adam window fixed", set("adam", "gen", func(c *train.Config) { c.Window = "fixed" }))
	for _, n := range []int{0, 4} {
		add(fmt.Sprintf("adam eager %d", n), set("adam", "gen", func(c *train.Config) { c.Eager = &n }))
	}
	add("adam exact Gauss-Newton", set("adam", "gen-exact", func(c *train.Config) { c.Curvature = "gauss-newton" }))
	add("sgd exact Gauss-Newton", set("sgd", "gen-exact", func(c *train.Config) { c.Curvature = "gauss-newton" }))
	return ms
}

// RemedyMethods are candidate remedies for the greedy step's bias, each
// applied to approximate GeN on SGD and on Adam with fresh probes and the
// default settings (and, for the probe batch, same-batch probes on both
// directions, with the trust test on the runaway same-batch GeN-Adam): a
// linear horizon, the trust-ratio test of package peer (κ ≤ 1: a pure
// safeguard; κ ≤ 2: it may also lengthen steps the model predicts well),
// and the defaults undone one at a time — without the authors' clip of Δ
// to [α/2, 2α], with the fallback to a fixed 1e-3 instead of keeping the
// rate, and with the other estimator (Mean for SGD, whose default is
// Smoothed; Smoothed for Adam) — and, for Adam, the former default (the
// Smoothed estimator with the fallback inside the trust test κ ≤ 2), so
// that the report measures what each default buys; and per-layer GeN
// (--groups layer) beside the single rate.
func RemedyMethods() []Method {
	var ms []Method
	for _, opt := range []string{"sgd", "adam"} {
		o := map[string]string{"sgd": "SGD", "adam": "Adam"}[opt]
		est := map[string]string{"sgd": "mean", "adam": "smoothed"}[opt]
		ms = append(ms,
			Method{"GeN-" + o + " + linear horizon", "remedy", set(opt, "gen", func(c *train.Config) { c.Horizon = "linear" })},
			Method{"GeN-" + o + " + trust κ≤1", "remedy", set(opt, "gen-trust")},
			Method{"GeN-" + o + " + trust κ≤2", "remedy", set(opt, "gen-trust:2")},
			Method{"GeN-" + o + " without clip", "remedy", set(opt, "gen", func(c *train.Config) { c.MaxChange = -1 })},
			Method{"GeN-" + o + " + fallback on failure", "remedy", set(opt, "gen", func(c *train.Config) { c.Policy = "fallback" })},
			Method{"GeN-" + o + " + " + est + " estimator", "remedy", set(opt, "gen", func(c *train.Config) { c.Estimator = est })},
			Method{"GeN-" + o + " per layer", "remedy", set(opt, "gen", func(c *train.Config) { c.Groups = "layer" })},
		)
		if opt == "adam" {
			ms = append(ms, Method{"GeN-Adam former default (smoothed + fallback + trust κ≤2)", "remedy",
				set(opt, "gen-trust:2", func(c *train.Config) { c.Estimator, c.Policy = "smoothed", "fallback" })})
		}
	}
	ms = append(ms,
		Method{"GeN-SGD same-batch", "remedy", set("sgd", "gen", probeSame)},
		Method{"GeN-Adam same-batch", "remedy", set("adam", "gen", probeSame)},
		Method{"GeN-Adam same-batch + trust κ≤1", "remedy", set("adam", "gen-trust", probeSame)},
	)
	return ms
}

// Tasks returns the five tasks of the issue, with run lengths scaled by
// the suite: steps for the MNIST and text tasks, epochs for the synthetic
// regression; cnnSteps 0 leaves the CNN out.
func Tasks(synthEpochs, mnistSteps, cnnSteps, textSteps int) []Task {
	ts := []Task{
		{Name: "synthetic", Title: "Synthetic affine regression, MLP 10-64-32-1, MSE, batch 32 (the source text's demo)",
			Base: train.Config{Data: "synthetic", Task: "regression", Hidden: []int{64, 32}, Batch: 32, Epochs: synthEpochs}},
		{Name: "mnist-softmax", Title: "MNIST softmax regression 784-10 (convex), batch 128",
			Base: train.Config{Hidden: []int{}, Steps: mnistSteps}},
		{Name: "mnist-mlp", Title: "MNIST MLP 784-256-10, ReLU, batch 128",
			Base: train.Config{Steps: mnistSteps}},
	}
	if cnnSteps > 0 {
		ts = append(ts, Task{Name: "mnist-cnn", Title: "MNIST shallow CNN (two 3×3 convolutions, max-pool, dropout), batch 128",
			Base: train.Config{Model: "cnn", Steps: cnnSteps}})
	}
	ts = append(ts, Task{Name: "text-charmlp", Title: "Newton's Opticks, character MLP (32-character context, embedding, 200 tanh), batch 128",
		Base: train.Config{Data: "text", Model: "charmlp", Steps: textSteps}})
	return ts
}

// Quick is the suite `gen compare --suite quick` runs: four tasks (no CNN),
// short runs, three seeds, sensitivity on MNIST MLP (first seed) and
// remedies on every task; under ten minutes on two idle cores.
func Quick() Suite { return standard("quick", Tasks(20, 300, 0, 300)) }

// Full is the suite of `gen compare --suite full`: all five tasks, longer
// runs, three seeds, sensitivity on MNIST MLP and remedies on every task;
// then the GPT (GPTSuite).
func Full() Suite {
	s := standard("full", Tasks(50, 940, 100, 1500))
	s.Tasks = append(s.Tasks, GPTTask(2000))
	return s
}

// GPTSuite is `gen compare --suite gpt`: the full suite's GPT task alone,
// 2000 steps, one seed (each run takes minutes).
func GPTSuite() Suite {
	return Suite{Name: "gpt", Tasks: []Task{GPTTask(2000)}, Seeds: []uint64{1}, Peers: true}
}

// standard is the shape of the quick and full suites: three seeds, the
// peers, sensitivity on MNIST MLP, remedies on every task.
func standard(name string, tasks []Task) Suite {
	s := Suite{Name: name, Tasks: tasks, Seeds: []uint64{1, 2, 3}, Peers: true,
		Sensitivity: []string{"mnist-mlp"}, RemedySeeds: 3}
	for _, t := range s.Tasks {
		s.Remedies = append(s.Remedies, t.Name)
	}
	return s
}

// Tiny is a suite of a few steps of the synthetic regression, for tests:
// a grid of 2 rates, GeN, one peer and one remedy.
func Tiny() Suite {
	t := Task{Name: "synthetic", Title: "Synthetic regression (tiny)",
		Base:    train.Config{Data: "synthetic", Task: "regression", Hidden: []int{8}, Batch: 32, Steps: 12},
		SGDGrid: []float64{0.01, 0.1}, AdamGrid: []float64{0.001, 0.01}}
	return Suite{Name: "tiny", Tasks: []Task{t}, Seeds: []uint64{1, 2}, Peers: true, Window: 4,
		Sensitivity: []string{"synthetic"}, Remedies: []string{"synthetic"}}
}

// ByName returns the suite called name.
func ByName(name string) (Suite, error) {
	switch name {
	case "quick":
		return Quick(), nil
	case "full":
		return Full(), nil
	case "gpt":
		return GPTSuite(), nil
	case "tiny":
		return Tiny(), nil
	}
	return Suite{}, fmt.Errorf("compare: unknown suite %q; valid: quick, full, gpt, tiny", name)
}
