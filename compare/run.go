package compare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/genopt/gen"
	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/train"
)

// Options configures Run. The zero value runs in a temporary directory
// and logs nothing.
type Options struct {
	// WorkDir holds one train run directory per run, and each run's
	// result.json; a run whose result.json records the same command is not
	// run again, so an interrupted suite continues where it stopped.
	// Default: a new temporary directory.
	WorkDir string
	// Log receives one line per run; nil for none.
	Log io.Writer
}

// Curve is one run's trajectory, one entry per step.
type Curve struct {
	Step    []int     `json:"step"`
	Loss    []float64 `json:"loss"`    // the batch loss before the step
	Smooth  []float64 `json:"smooth"`  // trailing mean of Loss over the window
	LR      []float64 `json:"lr"`      // the learning rate applied
	Seconds []float64 `json:"seconds"` // training time since the start
	// EvalStep, TestLoss and TestAccuracy are the test evaluations.
	EvalStep     []int     `json:"eval_step"`
	TestLoss     []float64 `json:"test_loss"`
	TestAccuracy []float64 `json:"test_accuracy,omitempty"`
}

// Result is one run's outcome. Quantities not measured are NaN (and -1
// for StepsToTarget).
type Result struct {
	Task    string `json:"task"`
	Group   string `json:"group"`
	Method  string `json:"method"`
	Seed    uint64 `json:"seed"`
	Command string `json:"command"`
	// Err is the run's error (a diverged run: non-finite loss); empty if
	// it finished.
	Err string `json:"err,omitempty"`
	// Metric is what ranks the run: its task's Metric.
	Metric Metric `json:"metric,omitempty"`
	// TrainLoss is the final trailing-mean training loss (+Inf if the run
	// diverged).
	TrainLoss    train.Num `json:"train_loss"`
	TestLoss     train.Num `json:"test_loss"`
	TestAccuracy train.Num `json:"test_accuracy"`
	Steps        int       `json:"steps"`
	Seconds      float64   `json:"seconds"`
	Forwards     int       `json:"forwards"` // full forwards plus line replays, each counted as a forward (an upper bound)
	Backwards    int       `json:"backwards"`
	Jets         int       `json:"jets"`
	// Reasons counts the steps by how their learning rate came about
	// (ok, lazy, non-convex, non-descent, non-finite, scheduled).
	Reasons map[string]int `json:"reasons"`
	// StepsToTarget and SecondsToTarget are when the trailing-mean
	// training loss first reached the task's target; -1 and NaN if never.
	StepsToTarget   int       `json:"steps_to_target"`
	SecondsToTarget train.Num `json:"seconds_to_target"`
	Curve           Curve     `json:"curve"`
}

// Diverged reports whether the run stopped on a non-finite loss or failed.
func (r *Result) Diverged() bool { return r.Err != "" }

// Fallbacks counts the steps whose rule fell back (gen.Reason.Failed).
func (r *Result) Fallbacks() int {
	n := 0
	for name, k := range r.Reasons {
		if why, ok := gen.ParseReason(name); ok && why.Failed() {
			n += k
		}
	}
	return n
}

// Cost is the compute of the run in forward-pass equivalents, counting a
// backward pass as 2 forwards and a jet sweep as 3 (it carries a value and
// two tangents through every operation).
func (r *Result) Cost() float64 {
	return float64(r.Forwards) + 2*float64(r.Backwards) + 3*float64(r.Jets)
}

// TaskInfo is what a suite fixed per task.
type TaskInfo struct {
	Task
	// Window is the trailing-mean window of the training loss, in steps.
	Window int `json:"window"`
	// BestSGD and BestAdam are the constant learning rates of each grid
	// with the lowest final training loss; Target is 1.05 × the lowest.
	BestSGD, BestAdam, Target float64
}

// Results is everything a suite run produced.
type Results struct {
	Suite   string     `json:"suite"`
	Seeds   []uint64   `json:"seeds"`
	Tasks   []TaskInfo `json:"tasks"`
	Runs    []*Result  `json:"runs"`
	Seconds float64    `json:"seconds"`
	Date    string     `json:"date"`
}

// Run runs the suite and returns its results. A run that diverges is
// recorded, not fatal; cancelling ctx stops the suite with the context's
// error (the finished runs stay cached in WorkDir).
func Run(ctx context.Context, s Suite, opt Options) (*Results, error) {
	if opt.WorkDir == "" {
		d, err := os.MkdirTemp("", "gen-compare-")
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		opt.WorkDir = d
	}
	if len(s.Seeds) == 0 {
		return nil, fmt.Errorf("compare: suite %s has no seeds", s.Name)
	}
	start := time.Now()
	res := &Results{Suite: s.Name, Seeds: s.Seeds, Date: start.UTC().Format("2006-01-02")}
	for _, t := range s.Tasks {
		info, runs, err := runTask(ctx, s, t, opt)
		res.Runs = append(res.Runs, runs...)
		if err != nil {
			return res, err
		}
		res.Tasks = append(res.Tasks, info)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

func runTask(ctx context.Context, s Suite, t Task, opt Options) (TaskInfo, []*Result, error) {
	info := TaskInfo{Task: t, Window: s.Window}
	var runs []*Result
	done := map[string]*Result{} // by command: a best-of-grid rerun is a copy
	do := func(m Method, seed uint64) (*Result, error) {
		cfg := t.Base
		cfg.Hidden = slices.Clone(t.Base.Hidden)
		m.Set(&cfg)
		cfg.Seed = seed
		if prev, ok := done[Command(cfg)]; ok {
			r := *prev
			r.Method, r.Group = m.Name, m.Group
			runs = append(runs, &r)
			return &r, nil
		}
		r, err := runOne(ctx, t.Name, m, cfg, &info, opt)
		if r != nil {
			r.Metric = t.Metric
			done[r.Command] = r
		}
		if r != nil {
			runs = append(runs, r)
		}
		return r, err
	}
	if t.Base.Model == "gpt" {
		err := runGPT(ctx, s, t, do, &info)
		for _, r := range runs {
			r.measureTarget(info.Target)
		}
		return info, runs, err
	}
	// 1. The grids, on the first seed.
	sgdGrid, adamGrid := t.grids()
	best := map[string]float64{}
	bestLoss := math.Inf(1)
	for _, g := range []struct {
		opt  string
		grid []float64
	}{{"sgd", sgdGrid}, {"adam", adamGrid}} {
		gb := newGridBest()
		for _, lr := range g.grid {
			m := Method{Name: fmt.Sprintf("%s const:%g", label(g.opt), lr), Group: "grid", Set: set(g.opt, fmt.Sprintf("const:%g", lr))}
			r, err := do(m, s.Seeds[0])
			if err != nil {
				return info, runs, err
			}
			gb.see(lr, float64(r.TrainLoss))
		}
		best[g.opt] = gb.rate
		bestLoss = min(bestLoss, gb.loss)
	}
	info.BestSGD, info.BestAdam = best["sgd"], best["adam"]
	info.Target = 1.05 * bestLoss
	// 2. The main methods on every seed.
	main := GeNMethods()
	for _, o := range []string{"sgd", "adam"} {
		lr := best[o]
		main = append(main,
			Method{label(o) + " best const", "main", set(o, fmt.Sprintf("const:%g", lr))},
			Method{label(o) + " cosine", "main", set(o, fmt.Sprintf("cosine:%g", lr))})
	}
	if s.Peers {
		main = append(main, PeerMethods()...)
	}
	for _, m := range main {
		for _, seed := range s.Seeds {
			if _, err := do(m, seed); err != nil {
				return info, runs, err
			}
		}
	}
	// 3. Sensitivity and remedies.
	if slices.Contains(s.Sensitivity, t.Name) {
		for _, m := range SensitivityMethods() {
			if _, err := do(m, s.Seeds[0]); err != nil {
				return info, runs, err
			}
		}
	}
	if slices.Contains(s.Remedies, t.Name) {
		n := min(max(s.RemedySeeds, 1), len(s.Seeds))
		for _, m := range RemedyMethods() {
			for _, seed := range s.Seeds[:n] {
				if _, err := do(m, seed); err != nil {
					return info, runs, err
				}
			}
		}
	}
	for _, r := range runs {
		r.measureTarget(info.Target)
	}
	return info, runs, nil
}

// gridBest is the rate of a grid with the lowest loss seen so far (loss);
// the first rate stands while every loss is +Inf or NaN (all diverged).
type gridBest struct{ loss, rate float64 }

func newGridBest() gridBest { return gridBest{loss: math.Inf(1)} }

// see records the loss of one rate of the grid.
func (g *gridBest) see(rate, loss float64) {
	if loss < g.loss || g.rate == 0 {
		g.loss, g.rate = min(loss, g.loss), rate
	}
}

func label(opt string) string {
	return map[string]string{"sgd": "SGD", "adam": "Adam"}[opt]
}

// slug turns a method name into a directory name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r - 'A' + 'a')
		case r == 'γ':
			b.WriteString("gamma")
		case r == 'Φ':
			b.WriteString("phi")
		case r == 'κ':
			b.WriteString("k")
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}

// runOne runs (or reloads) one configuration.
func runOne(ctx context.Context, task string, m Method, cfg train.Config, info *TaskInfo, opt Options) (*Result, error) {
	cmd := Command(cfg)
	dir := filepath.Join(opt.WorkDir, task, fmt.Sprintf("%s.s%d", slug(m.Name), cfg.Seed))
	cache := filepath.Join(dir, "result.json")
	var r Result
	if err := checkpoint.ReadJSON(cache, &r); err == nil && r.Command == cmd {
		r.Group, r.Method = m.Group, m.Name
		if info.Window == 0 {
			info.Window = defaultWindow(len(r.Curve.Step))
		}
		logRun(opt.Log, &r, "cached")
		return &r, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	r = Result{Task: task, Group: m.Group, Method: m.Name, Seed: cfg.Seed, Command: cmd, Reasons: map[string]int{}}
	c := &r.Curve
	hooks := train.Hooks{
		Start: func(total, _ int) {
			if info.Window == 0 {
				info.Window = defaultWindow(total)
			}
		},
		Step: func(s train.StepRecord) {
			c.Step = append(c.Step, s.Step)
			c.Loss = append(c.Loss, s.Loss)
			c.LR = append(c.LR, s.LR)
			c.Seconds = append(c.Seconds, s.Seconds)
			r.Reasons[s.Reason]++
			r.Forwards, r.Backwards, r.Jets = s.Forwards+s.Replays, s.Backwards, s.Jets
		},
		Epoch: func(e train.EpochRecord) {
			c.EvalStep = append(c.EvalStep, e.Step)
			c.TestLoss = append(c.TestLoss, float64(e.TestLoss))
			if e.TestAccuracy != nil {
				c.TestAccuracy = append(c.TestAccuracy, *e.TestAccuracy)
			}
		},
	}
	sum, err := train.Run(ctx, cfg, dir, hooks)
	if errors.Is(err, train.ErrInterrupted) {
		return nil, ctx.Err()
	}
	c.Smooth = trailingMean(c.Loss, info.Window)
	r.Steps = len(c.Step)
	if r.Steps > 0 {
		r.Seconds = c.Seconds[r.Steps-1]
	}
	r.TrainLoss, r.TestLoss, r.TestAccuracy = train.Num(math.Inf(1)), train.Num(math.NaN()), train.Num(math.NaN())
	if err != nil {
		r.Err = err.Error()
	} else {
		if r.Steps > 0 {
			r.TrainLoss = train.Num(c.Smooth[r.Steps-1])
		}
		r.TestLoss = train.Num(sum.TestLoss)
		if sum.TestAccuracy != nil {
			r.TestAccuracy = train.Num(*sum.TestAccuracy)
		}
	}
	if err := checkpoint.WriteJSON(cache, &r); err != nil {
		return nil, err
	}
	logRun(opt.Log, &r, "")
	return &r, nil
}

func logRun(w io.Writer, r *Result, note string) {
	if w == nil {
		return
	}
	status := fmt.Sprintf("loss %.4g", float64(r.TrainLoss))
	if r.Diverged() {
		status = "diverged"
	}
	fmt.Fprintf(w, "%-14s %-34s seed %d  %s  %.1fs %s\n", r.Task, r.Method, r.Seed, status, r.Seconds, note)
}

// defaultWindow is a tenth of the run, between 1 and 100 steps.
func defaultWindow(total int) int { return min(max(total/10, 1), 100) }

// trailingMean returns m with m[i] the mean of x[max(0, i−w+1)…i].
func trailingMean(x []float64, w int) []float64 {
	w = max(w, 1)
	m := make([]float64, len(x))
	var s float64
	for i, v := range x {
		s += v
		if i >= w {
			s -= x[i-w]
		}
		m[i] = s / float64(min(i+1, w))
	}
	return m
}

// measureTarget sets StepsToTarget and SecondsToTarget.
func (r *Result) measureTarget(target float64) {
	r.StepsToTarget, r.SecondsToTarget = -1, train.Num(math.NaN())
	for i, v := range r.Curve.Smooth {
		if v <= target {
			r.StepsToTarget, r.SecondsToTarget = r.Curve.Step[i], train.Num(r.Curve.Seconds[i])
			return
		}
	}
}

// Save writes the results as JSON (with the curves) to path.
func (res *Results) Save(path string) error { return checkpoint.WriteJSON(path, res) }

// Load reads results written by Save.
func Load(path string) (*Results, error) {
	f, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	var res Results
	if err := json.Unmarshal(f, &res); err != nil {
		return nil, fmt.Errorf("compare: %s: %w", path, err)
	}
	return &res, nil
}
