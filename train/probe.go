package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/plot"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// ProbeOptions configures Probe.
type ProbeOptions struct {
	// Alphas is the grid of learning rates, "FROM:TO:N"; empty means
	// 0 to 3·α* (or 0 to 0.1 when α* is undefined) in 41 points.
	Alphas string
	// Checkpoint is a run directory (or its checkpoint/ directory) to probe
	// at: its weights, its optimizer's state (so that u is the direction the
	// run would take next) and its data position (so that the batch is the
	// run's next one); given a run directory, also the run's configuration,
	// of which only the probe batch mode is overridden. Empty: the initial
	// weights of the configuration.
	Checkpoint string
	// Out is the directory for probe.csv, probe.png and probe.svg; empty
	// writes no files.
	Out string
}

// ProbeResult is what Probe measured along one update direction.
type ProbeResult struct {
	// Loss is g(0), Slope is ∇f·u and Curvature uᵀHu (exact, by the jet).
	// Non-finite numbers are written as JSON null, here and below.
	Loss      Num `json:"loss"`
	Slope     Num `json:"slope"`
	Curvature Num `json:"curvature"`
	// GaussNewton is uᵀGu.
	GaussNewton Num `json:"gauss_newton"`
	// AlphaExact is (∇f·u)/(uᵀHu) (null when uᵀHu ≤ 0 or ∇f·u ≤ 0).
	AlphaExact Num `json:"alpha_exact"`
	// AlphaApprox is the three-point estimate Δ with probe size α* (or
	// 1e-3 when α* is undefined).
	AlphaApprox Num `json:"alpha_approx"`
	// AlphaClosedForm and ValidityInterval are given for a single-layer
	// model with a piecewise-linear output and the half-sq loss: the
	// source text's closed form and the interval of α on which the loss
	// along the line is exactly quadratic (null when it is unbounded: no
	// pre-activation ever crosses the kink).
	AlphaClosedForm  *Num `json:"alpha_closed_form,omitempty"`
	ValidityInterval *Num `json:"validity_interval,omitempty"`
	// AlphaBest is the grid point with the lowest loss.
	AlphaBest Num `json:"alpha_best"`
	// Batch names the batch the line was evaluated on.
	Batch string `json:"batch"`
	// Alphas, Curve and Parabola are the grid, g on it and the
	// second-order model on it.
	Alphas   []float64 `json:"alphas"`
	Curve    []Num     `json:"curve"`
	Parabola []Num     `json:"parabola"`
	// Files lists what was written.
	Files []string `json:"files,omitempty"`
}

// MaxAlphas bounds N of a grid of learning rates: each point is one
// forward pass of the probe batch.
const MaxAlphas = 100000

// ParseAlphas parses "FROM:TO:N" (2 ≤ N ≤ MaxAlphas).
func ParseAlphas(s string) ([]float64, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return nil, fmt.Errorf("--alphas %q: want FROM:TO:N, e.g. 0:0.1:41", s)
	}
	a, err1 := strconv.ParseFloat(f[0], 64)
	b, err2 := strconv.ParseFloat(f[1], 64)
	n, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil || n < 2 || !(b > a) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return nil, fmt.Errorf("--alphas %q: want FROM:TO:N with numbers FROM < TO and an integer N ≥ 2", s)
	}
	if n > MaxAlphas {
		return nil, fmt.Errorf("--alphas %q: N = %d points is more than %d (each point is a forward pass); ask for fewer", s, n, MaxAlphas)
	}
	return gen.Grid(a, b, n), nil
}

// Probe evaluates the line of the first training step of cfg: the loss
// along the direction of cfg's optimizer at the initial (or checkpointed)
// parameters, on the batch the direction came from (cfg.Probe "same", the
// source text's definition) or the one cfg.Probe names. It reports GeN's
// exact and approximate learning rates beside the true curve.
func Probe(cfg Config, opts ProbeOptions) (*ProbeResult, error) {
	return ProbeContext(context.Background(), cfg, opts)
}

// ProbeContext is Probe that stops, with an error wrapping ctx's, when ctx
// is cancelled (between the grid's evaluations).
func ProbeContext(ctx context.Context, cfg Config, opts ProbeOptions) (*ProbeResult, error) {
	var grid []float64
	if opts.Alphas != "" {
		var err error
		if grid, err = ParseAlphas(opts.Alphas); err != nil {
			return nil, err
		}
	}
	cfg, err := probeConfig(cfg.Defaults(), opts)
	if err != nil {
		return nil, err
	}
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Precision == "f64" {
		return probeRun[float64](ctx, cfg, opts, grid)
	}
	return probeRun[float32](ctx, cfg, opts, grid)
}

func probeRun[T ad.Float](ctx context.Context, cfg Config, opts ProbeOptions, grid []float64) (*ProbeResult, error) {
	r := &runner[T]{cfg: cfg}
	if err := r.setup(); err != nil {
		return nil, err
	}
	if dir := opts.Checkpoint; dir != "" {
		if err := r.loadForProbe(dir); err != nil {
			return nil, err
		}
	}
	// One training step's first half: gradient and direction.
	data.NextBatch(r.loader, &r.batch)
	r.trainTape.Reset()
	f := r.trainObj(&r.trainTape)
	ad.ZeroGrad(r.params)
	r.trainTape.Backward(f)
	r.opt.Direction(r.u, r.values, r.grads)
	if r.mode == probe.Same {
		r.line.Reset(&r.trainTape, r.trainObj, f)
	} else {
		r.line.Reset(&r.probeTape, r.probeObj, nil)
	}
	res := &ProbeResult{Batch: r.mode.String()}
	g0, d1, d2 := r.line.Jet(ad.Hessian)
	_, _, gn := r.line.Jet(ad.GaussNewton)
	res.Loss, res.Slope, res.Curvature, res.GaussNewton = Num(g0), Num(-d1), Num(d2), Num(gn)
	alpha := math.NaN()
	if -d1 > 0 && d2 > 0 {
		alpha = -d1 / d2
	}
	res.AlphaExact = Num(alpha)
	a := alpha
	if math.IsNaN(a) {
		a = 1e-3
	}
	res.AlphaApprox = Num(gen.NewApprox(gen.ApproxConfig{LR0: a, NoSmoothing: true, Every: 1}).Next(0, r.line).Estimate)
	r.closedForm(res)
	if grid == nil {
		top := 0.1
		if !math.IsNaN(alpha) {
			top = 3 * alpha
		}
		grid = gen.Grid(0, top, 41)
	}
	// The grid in chunks, to notice a cancellation between them.
	const chunk = 64
	curve := make([]float64, 0, len(grid))
	for lo := 0; lo < len(grid); lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("probe: interrupted after %d of %d points: %w", lo, len(grid), err)
		}
		curve = append(curve, gen.Sweep(r.line, grid[lo:min(lo+chunk, len(grid))])...)
	}
	parabola := gen.Parabola(g0, -d1, d2, grid)
	res.Alphas = grid
	best := 0
	for i, v := range curve {
		res.Curve = append(res.Curve, Num(v))
		res.Parabola = append(res.Parabola, Num(parabola[i]))
		if v < curve[best] {
			best = i
		}
	}
	res.AlphaBest = Num(grid[best])
	if opts.Out != "" {
		if err := writeProbe(opts.Out, res, curve, parabola, r.cfg); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// probeConfig returns the configuration Probe runs: the run's own when
// opts.Checkpoint is a run directory (keeping the caller's probe batch),
// cfg otherwise.
func probeConfig(cfg Config, opts ProbeOptions) (Config, error) {
	if opts.Checkpoint == "" {
		return cfg, nil
	}
	path := filepath.Join(opts.Checkpoint, "config.json")
	if _, err := os.Stat(path); err != nil {
		return cfg, nil // a bare checkpoint directory: the caller's configuration
	}
	var run Config
	if err := checkpoint.ReadJSON(path, &run); err != nil {
		return cfg, fmt.Errorf("probe: --checkpoint: %w", err)
	}
	run.Probe = cfg.Probe
	return run, nil
}

// loadForProbe loads a checkpoint's weights, optimizer state and data
// position into a freshly set-up runner.
func (r *runner[T]) loadForProbe(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "checkpoint", checkpoint.ManifestFile)); err == nil {
		dir = filepath.Join(dir, "checkpoint")
	}
	var os optim.State
	var rl ruleAndLoop
	if _, err := checkpoint.Load(dir, &checkpoint.State[T]{Params: r.params, Optimizer: &os, Rule: &rl}); err != nil {
		return fmt.Errorf("probe: --checkpoint: %w", err)
	}
	if err := r.opt.SetState(os); err != nil {
		return fmt.Errorf("probe: --checkpoint: optimizer: %w", err)
	}
	if err := r.loader.Seek(rl.Trainer.Position); err != nil {
		return fmt.Errorf("probe: --checkpoint: %w", err)
	}
	return nil
}

// closedForm adds the single-layer closed form when the model is one: an
// mlp without hidden layers, a piecewise-linear output, the half-sq loss.
func (r *runner[T]) closedForm(res *ProbeResult) {
	act, _ := ad.ParseAct(r.cfg.OutAct)
	// The closed form is for the gradient's own batch.
	if r.cfg.Model != "mlp" || len(r.cfg.Hidden) != 0 || r.lossKind != loss.HalfSq || !act.PiecewiseLinear() || len(r.params) != 2 || r.mode != probe.Same {
		return
	}
	w, b := tensor.Convert[float64](r.params[0].Value), tensor.Convert[float64](r.params[1].Value)
	v, c := tensor.Convert[float64](r.u[0]), tensor.Convert[float64](r.u[1])
	x, y := tensor.Convert[float64](r.batch.X), tensor.Convert[float64](r.batch.Y)
	s := gen.NewSingleLayer(w, b, act)
	num, den := s.Coefficients(x, y, v, c)
	cf, vi := Num(num/den), Num(s.ValidityInterval(x, v, c))
	res.AlphaClosedForm, res.ValidityInterval = &cf, &vi
}

// writeProbe writes probe.csv and the probe figure.
func writeProbe(dir string, res *ProbeResult, curve, parabola []float64, cfg Config) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	var sb strings.Builder
	sb.WriteString("alpha,loss,parabola\n")
	for i, a := range res.Alphas {
		fmt.Fprintf(&sb, "%g,%s,%s\n", a, Num(curve[i]).csv(), Num(parabola[i]).csv())
	}
	csvPath := filepath.Join(dir, "probe.csv")
	if err := checkpoint.WriteFileAtomic(csvPath, []byte(sb.String())); err != nil {
		return err
	}
	res.Files = append(res.Files, csvPath)
	fig := plot.Probe{
		Alphas: res.Alphas, Loss: curve, Parabola: parabola,
		AlphaStar: float64(res.AlphaExact), AlphaApprox: float64(res.AlphaApprox),
		Title: fmt.Sprintf("g(α) = f(θ − α·u): %s, %s, %s directions, %s batch", cfg.Data, cfg.Model, cfg.Opt, res.Batch),
	}
	for _, ext := range []string{".png", ".svg"} {
		p := filepath.Join(dir, "probe"+ext)
		if err := plot.SaveProbe(p, fig); err != nil {
			return err
		}
		res.Files = append(res.Files, p)
	}
	return nil
}
