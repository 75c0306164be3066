package compare

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/genopt/gen/plot"
)

// ReportOptions configures Report.
type ReportOptions struct {
	// Notes is Markdown placed at the top of the report, under the title:
	// the written summary of what the numbers say. Empty for none.
	Notes string
	// Command is the command that produced the results, quoted in the
	// report (default "gen compare --suite NAME").
	Command string
}

// Report writes into dir:
//
//	README.md     the report: tables per task, the grid, compute, GeN
//	              sensitivity, fallbacks, remedies; each row with its command
//	fig/*.png     per task: training loss against steps and against seconds,
//	              learning rate against steps, test accuracy against steps
//	runs.csv      one row per run with every measure
//	curves.csv    every run's trajectory, at most 50 points per run
//
// It never decides a winner in advance: rankings are read off the numbers.
func Report(dir string, res *Results, opt ReportOptions) error {
	if err := os.MkdirAll(filepath.Join(dir, "fig"), 0o755); err != nil {
		return fmt.Errorf("compare: report: %w", err)
	}
	if opt.Command == "" {
		opt.Command = "gen compare --suite " + res.Suite
	}
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	gs := groups(res.Runs)
	w("# Does GeN train faster? (suite %q)\n\n", res.Suite)
	if opt.Notes != "" {
		w("%s\n\n", strings.TrimSpace(opt.Notes))
	}
	w("## Headline numbers (generated)\n\n")
	headline(&b, res, gs)
	w("\n## How this was made\n\n")
	var train float64
	for _, r := range res.Runs {
		train += r.Seconds
	}
	w("`%s` — %d runs, %.0f s of training in all (the last invocation's wall time was %.0f s; runs already in the work directory are reused), %s, Go %s on %s/%s with %d CPUs. ", opt.Command, len(res.Runs), train, res.Seconds, res.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	w("Seeds %v for every main method. ", res.Seeds)
	var standard []string
	for _, ti := range res.Tasks {
		if ti.Metric != Validation {
			standard = append(standard, ti.Name)
		}
	}
	if len(standard) > 0 {
		w("On %s the constant-rate grids (7 log-spaced rates each for SGD and Adam) run on seed %d, and the best rate of each grid is rerun on the other seeds and used as the peak of cosine decay. ", strings.Join(standard, ", "), res.Seeds[0])
	}
	for _, ti := range res.Tasks {
		if ti.Metric == Validation {
			w("On %s the grid (seed %d) is AdamW at the constant rates %v and nanoGPT's schedule (a linear warm-up, then cosine decay to a tenth) peaking at each; the best of each is rerun on the other seeds, and the methods are ranked by the final validation loss. ", ti.Name, res.Seeds[0], ti.AdamGrid)
		}
	}
	w("Every command below is for seed %d; change `--seed` for the others. Numbers are means ± sample standard deviations over the seeds that finished.\n\n", res.Seeds[0])
	w("- *final loss*: the training loss averaged over the last *window* steps (a trailing mean of the batch losses).\n")
	w("- *target*: 1.05 × the best final loss of either grid; *steps/seconds to target*: when the trailing mean first reaches it (mean over the seeds that reached it, k/n = how many did).\n")
	w("- *cost*: forward-pass equivalents, counting a backward as 2 forwards and a jet (exact GeN's second-order sweep) as 3.\n")
	w("- Wall-clock seconds were measured on a shared 2-core machine with other jobs running: compare them within a table, not across reports.\n\n")

	for _, ti := range res.Tasks {
		taskSection(&b, dir, ti, gs)
	}
	sensitivitySection(&b, gs)
	fallbackSection(&b, gs)
	remedySection(&b, res, gs)
	w("## Raw metrics\n\n[runs.csv](runs.csv) has one row per run with every measure and its command; [curves.csv](curves.csv) holds each run's trajectory (step, seconds, batch loss, trailing-mean loss, learning rate) at up to 50 evenly spaced steps.\n")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("compare: report: %w", err)
	}
	if err := writeRuns(filepath.Join(dir, "runs.csv"), res); err != nil {
		return err
	}
	return writeCurves(filepath.Join(dir, "curves.csv"), res)
}

func g4(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if math.IsInf(x, 1) {
		return "diverged"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

func pm(s stat, digits int, scale float64) string {
	if s.N == 0 {
		return "–"
	}
	f := func(x float64) string { return strconv.FormatFloat(x*scale, 'f', digits, 64) }
	out := f(s.Mean)
	if s.N > 1 {
		out += " ± " + f(s.SD)
	}
	if s.N < s.Of {
		out += fmt.Sprintf(" (%d/%d)", s.N, s.Of)
	}
	return out
}

func pmg(s stat) string {
	if s.N == 0 {
		return "–"
	}
	out := g4(s.Mean)
	if s.N > 1 {
		out += " ± " + strconv.FormatFloat(s.SD, 'g', 2, 64)
	}
	if s.N < s.Of {
		out += fmt.Sprintf(" (%d/%d finished)", s.N, s.Of)
	}
	return out
}

func toTarget(g *group) (steps, secs string) {
	var st, sc []float64
	for _, r := range g.Runs {
		if r.StepsToTarget >= 0 {
			st = append(st, float64(r.StepsToTarget))
			sc = append(sc, float64(r.SecondsToTarget))
		}
	}
	if len(st) == 0 {
		return fmt.Sprintf("never (0/%d)", len(g.Runs)), "–"
	}
	a, b := summarize(st), summarize(sc)
	return fmt.Sprintf("%.0f (%d/%d)", a.Mean, len(st), len(g.Runs)), fmt.Sprintf("%.2f", b.Mean)
}

// lossOf is the number a run is ranked by: its final training loss, or
// its final validation loss on a Validation task; +Inf if it diverged.
func lossOf(r *Result) float64 {
	if r.Diverged() {
		return math.Inf(1)
	}
	if r.Metric == Validation {
		return float64(r.TestLoss)
	}
	return float64(r.TrainLoss)
}

func taskGroups(gs []*group, task string, kinds ...string) []*group {
	var out []*group
	for _, g := range gs {
		if g.Task == task && slices.Contains(kinds, g.Group) {
			out = append(out, g)
		}
	}
	return out
}

func find(gs []*group, task, method string) *group {
	for _, g := range gs {
		if g.Task == task && g.Method == method {
			return g
		}
	}
	return nil
}

// headline writes, per task, how the best GeN variant compares with the
// tuned baselines and with the best peer.
func headline(b *bytes.Buffer, res *Results, gs []*group) {
	fmt.Fprintf(b, "| task | best GeN (final loss) | best tuned schedule | best peer | GeN vs tuned | steps to target: best GeN / best tuned | one GeN-Adam run vs the whole grid (cost) |\n|---|---|---|---|---|---|---|\n")
	for _, ti := range res.Tasks {
		best := func(pred func(*group) bool) *group {
			var bg *group
			for _, g := range taskGroups(gs, ti.Name, "main") {
				if pred(g) && (bg == nil || g.loss() < bg.loss()) {
					bg = g
				}
			}
			return bg
		}
		isGeN := func(g *group) bool { return strings.HasPrefix(g.Method, "GeN") }
		isTuned := func(g *group) bool {
			return strings.HasSuffix(g.Method, "best const") || strings.HasSuffix(g.Method, "cosine")
		}
		gen, tuned := best(isGeN), best(isTuned)
		peer := best(func(g *group) bool { return !isGeN(g) && !isTuned(g) })
		name := func(g *group) string {
			if g == nil {
				return "–"
			}
			return fmt.Sprintf("%s (%s)", g.Method, g4(g.loss()))
		}
		ratio := "–"
		if gen != nil && tuned != nil {
			ratio = fmt.Sprintf("%.2f× the loss", gen.loss()/tuned.loss())
		}
		st := "–"
		if gen != nil && tuned != nil {
			a, _ := toTarget(gen)
			c, _ := toTarget(tuned)
			st = a + " / " + c
		}
		cost := "–"
		if one := find(gs, ti.Name, "GeN-Adam"); one != nil {
			var gridCost, gridSec float64
			for _, g := range taskGroups(gs, ti.Name, "grid") {
				for _, r := range g.Runs {
					gridCost += r.Cost()
					gridSec += r.Seconds
				}
			}
			oc := summarize(one.values(func(r *Result) float64 { return r.Cost() })).Mean
			os := summarize(one.values(func(r *Result) float64 { return r.Seconds })).Mean
			cost = fmt.Sprintf("%.2f× (%.1f s vs %.1f s)", oc/gridCost, os, gridSec)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", ti.Name, name(gen), name(tuned), name(peer), ratio, st, cost)
	}
	for _, ti := range res.Tasks {
		if ti.Metric == Validation {
			fmt.Fprintf(b, "\n%s is ranked by its final validation loss, not the training loss.\n", ti.Name)
		}
	}
}

func taskSection(b *bytes.Buffer, dir string, ti TaskInfo, gs []*group) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	first := "final loss"
	if ti.Metric == Validation {
		w("## %s\n\n%s. Ranked by the **final validation loss** (\"final loss\" below; the training loss's window is %d steps); best constant AdamW rate %g; target training loss %s.\n\n", ti.Name, ti.Title, ti.Window, ti.BestAdam, g4(ti.Target))
		first = "final validation loss"
	} else {
		w("## %s\n\n%s. Window %d steps; best constant rate: SGD %g, Adam %g; target loss %s.\n\n", ti.Name, ti.Title, ti.Window, ti.BestSGD, ti.BestAdam, g4(ti.Target))
	}
	main := mainByLoss(gs, ti.Name)
	w("| method | %s | test loss | test acc. %% | steps to target | s to target | s | cost (fwd-eq.) | fallbacks | command (seed %d) |\n|---|---|---|---|---|---|---|---|---|---|\n", first, firstSeed(main))
	for _, g := range main {
		steps, secs := toTarget(g)
		w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |\n", g.Method,
			pmg(summarize(g.values(lossOf))),
			pmg(summarize(g.values(func(r *Result) float64 { return float64(r.TestLoss) }))),
			pm(summarize(g.values(func(r *Result) float64 { return float64(r.TestAccuracy) })), 2, 100),
			steps, secs,
			pm(summarize(g.values(func(r *Result) float64 { return r.Seconds })), 2, 1),
			g4(summarize(g.values(func(r *Result) float64 { return r.Cost() })).Mean),
			g4(summarize(g.values(func(r *Result) float64 { return float64(r.Fallbacks()) })).Mean),
			g.Runs[0].Command)
	}
	w("\n")
	// The grid.
	grid := taskGroups(gs, ti.Name, "grid")
	var cost, secs float64
	w("Grid (seed %d), %s per constant rate:\n\n| rate | %s | test acc. %% | s | command |\n|---|---|---|---|---|\n", firstSeed(grid), first, first)
	for _, g := range grid {
		r := g.Runs[0]
		cost += r.Cost()
		secs += r.Seconds
		w("| %s | %s | %s | %.2f | `%s` |\n", g.Method, g4(lossOf(r)), pm(summarize([]float64{float64(r.TestAccuracy)}), 2, 100), r.Seconds, r.Command)
	}
	w("\nThe grid cost %.0f forward-equivalents and %.1f s of training in all.\n\n", cost, secs)
	// The charts.
	names := figures(dir, ti, main)
	for _, n := range names {
		w("![%s](fig/%s)\n", n, n)
	}
	w("\n")
}

// mainByLoss returns the task's main methods, best final loss first (NaN
// last, ties in their order).
func mainByLoss(gs []*group, task string) []*group {
	main := taskGroups(gs, task, "main")
	slices.SortStableFunc(main, func(a, c *group) int {
		la, lc := a.loss(), c.loss()
		switch {
		case la < lc || !math.IsNaN(la) && math.IsNaN(lc):
			return -1
		case la > lc || math.IsNaN(la) && !math.IsNaN(lc):
			return 1
		}
		return 0
	})
	return main
}

func firstSeed(gs []*group) uint64 {
	if len(gs) == 0 || len(gs[0].Runs) == 0 {
		return 0
	}
	return gs[0].Runs[0].Seed
}

// figures draws the task's charts and returns their file names.
func figures(dir string, ti TaskInfo, main []*group) []string {
	var out []string
	for _, f := range figureSpecs(ti, main) {
		if err := plot.SaveLines(filepath.Join(dir, "fig", f.name), f.chart, f.series...); err != nil && !errors.Is(err, plot.ErrNoData) {
			continue
		}
		out = append(out, f.name)
	}
	return out
}

// figure is one chart of a task: its file name, layout and curves.
type figure struct {
	name   string
	chart  plot.Chart
	series []plot.Series
}

// figureSpecs lays out the task's charts, one series per main method in
// the order given (best final loss first): the trailing-mean training loss
// against steps and against seconds (means over seeds), and the learning
// rate and test accuracy of the first seed. With 14 or so methods a chart
// keeps its legend beside the plot, every method has its own colour and
// dash (package plot), and the GeN rows are drawn heavier. A figure with no
// series is left out.
func figureSpecs(ti TaskInfo, main []*group) []figure {
	var loss, lossT, lr, acc, val []plot.Series
	// A method keeps its colour and dash across figures and tasks: they
	// follow its place in the alphabetical order of the main methods, not
	// its rank here.
	order := slices.Clone(main)
	slices.SortStableFunc(order, func(a, b *group) int { return strings.Compare(a.Method, b.Method) })
	for _, g := range main {
		heavy := strings.HasPrefix(g.Method, "GeN")
		style := slices.Index(order, g) + 1
		x, y := g.meanCurve(func(r *Result) []float64 { return r.Curve.Smooth })
		loss = append(loss, plot.Series{Name: g.Method, X: x, Y: y, Heavy: heavy, Style: style})
		_, t := g.meanCurve(func(r *Result) []float64 { return r.Curve.Seconds })
		lossT = append(lossT, plot.Series{Name: g.Method, X: t[:min(len(t), len(y))], Y: y[:min(len(t), len(y))], Heavy: heavy, Style: style})
		r := g.Runs[0]
		steps := make([]float64, len(r.Curve.Step))
		for i, s := range r.Curve.Step {
			steps[i] = float64(s)
		}
		lr = append(lr, plot.Series{Name: g.Method, X: steps, Y: r.Curve.LR, Heavy: heavy, Style: style})
		if len(r.Curve.TestAccuracy) > 1 {
			ex := make([]float64, len(r.Curve.EvalStep))
			for i, s := range r.Curve.EvalStep {
				ex[i] = float64(s)
			}
			acc = append(acc, plot.Series{Name: g.Method, X: ex, Y: scale(r.Curve.TestAccuracy, 100), Heavy: heavy, Style: style})
		}
		if ti.Metric == Validation && len(r.Curve.TestLoss) > 1 {
			ex := make([]float64, len(r.Curve.EvalStep))
			for i, s := range r.Curve.EvalStep {
				ex[i] = float64(s)
			}
			val = append(val, plot.Series{Name: g.Method, X: ex, Y: r.Curve.TestLoss, Heavy: heavy, Style: style})
		}
	}
	t := ti.Name
	var out []figure
	add := func(name string, c plot.Chart, s []plot.Series) {
		if len(s) == 0 {
			return
		}
		c.Width, c.Height, c.LegendBeside = 1100, 560, true
		out = append(out, figure{name, c, s})
	}
	add(t+"-loss-steps.png", plot.Chart{Title: t + ": training loss (trailing mean, mean over seeds)", XLabel: "step", YLabel: "loss", LogY: true}, loss)
	add(t+"-loss-seconds.png", plot.Chart{Title: t + ": training loss against wall time", XLabel: "seconds", YLabel: "loss", LogY: true}, lossT)
	add(t+"-lr-steps.png", plot.Chart{Title: t + ": learning rate (first seed)", XLabel: "step", YLabel: "learning rate", LogY: true}, lr)
	add(t+"-accuracy-steps.png", plot.Chart{Title: t + ": test accuracy (first seed)", XLabel: "step", YLabel: "accuracy %"}, acc)
	add(t+"-validation-steps.png", plot.Chart{Title: t + ": validation loss (first seed)", XLabel: "step", YLabel: "loss", LogY: true}, val)
	return out
}

func scale(x []float64, s float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * s
	}
	return out
}

func reasons(g *group) string {
	var keys []string
	tot := map[string]int{}
	for _, r := range g.Runs {
		for k, v := range r.Reasons {
			if _, ok := tot[k]; !ok {
				keys = append(keys, k)
			}
			tot[k] += v
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, tot[k]))
	}
	return strings.Join(parts, ", ")
}

func sensitivitySection(b *bytes.Buffer, gs []*group) {
	var sens []*group
	for _, g := range gs {
		if g.Group == "sensitivity" {
			sens = append(sens, g)
		}
	}
	if len(sens) == 0 {
		return
	}
	fmt.Fprintf(b, "## GeN sensitivity (task %s, one seed)\n\nOne setting changed at a time from the default approximate GeN: fresh probes, the Mean estimator for Adam (γ = 0.9, a growing window, the first 10 steps probed) and Smoothed for SGD (γ = 0.9); Φ = 4, probe factor 1, 3 points, batch 128, the cooldown horizon. The batch-size rows keep the number of examples seen.\n\n", sens[0].Task)
	fmt.Fprintf(b, "| variant | final loss | test acc. %% | steps to target | final lr | step reasons | command |\n|---|---|---|---|---|---|---|\n")
	for _, g := range sens {
		r := g.Runs[0]
		st, _ := toTarget(g)
		last := math.NaN()
		if n := len(r.Curve.LR); n > 0 {
			last = r.Curve.LR[n-1]
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | `%s` |\n", g.Method, g4(lossOf(r)), pm(summarize([]float64{float64(r.TestAccuracy)}), 2, 100), st, g4(last), reasons(g), r.Command)
	}
	fmt.Fprintf(b, "\n")
}

func fallbackSection(b *bytes.Buffer, gs []*group) {
	fmt.Fprintf(b, "## How often each fallback fires\n\nSteps by reason, summed over seeds, for the rules that look at the line (lazy: no probe this step, Φ > 1).\n\n| task | method | reasons |\n|---|---|---|\n")
	for _, g := range gs {
		if g.Group != "main" || g.Runs[0].Reasons["scheduled"] > 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", g.Task, g.Method, reasons(g))
	}
	fmt.Fprintf(b, "\n")
}

// remedySection compares each remedy with the GeN variant it modifies.
func remedySection(b *bytes.Buffer, res *Results, gs []*group) {
	type row struct {
		method string
		ratios map[string]float64
	}
	var rows []*row
	byName := map[string]*row{}
	var tasks []string
	for _, g := range gs {
		if g.Group != "remedy" {
			continue
		}
		if !slices.Contains(tasks, g.Task) {
			tasks = append(tasks, g.Task)
		}
		base := "GeN-SGD"
		if strings.HasPrefix(g.Method, "GeN-Adam") {
			base = "GeN-Adam"
		}
		bg := find(gs, g.Task, base)
		if bg == nil {
			continue
		}
		// Compare on the same seeds.
		var num, den []float64
		for _, r := range g.Runs {
			for _, q := range bg.Runs {
				if q.Seed == r.Seed {
					num = append(num, lossOf(r))
					den = append(den, lossOf(q))
				}
			}
		}
		rw, ok := byName[g.Method]
		if !ok {
			rw = &row{method: g.Method, ratios: map[string]float64{}}
			byName[g.Method] = rw
			rows = append(rows, rw)
		}
		rw.ratios[g.Task] = mean(num) / mean(den)
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "## Remedies for the greedy step's bias\n\nFinal training loss of each remedy divided by that of the GeN variant it modifies (GeN-SGD or GeN-Adam with fresh probes), on the same seeds: below 1 the remedy helps. *wins* counts the tasks where it is below 0.97.\n\n| remedy |")
	for _, t := range tasks {
		fmt.Fprintf(b, " %s |", t)
	}
	fmt.Fprintf(b, " wins |\n|---|%s---|\n", strings.Repeat("---|", len(tasks)))
	for _, rw := range rows {
		wins := 0
		fmt.Fprintf(b, "| %s |", rw.method)
		for _, t := range tasks {
			x, ok := rw.ratios[t]
			if ok && x < 0.97 {
				wins++
			}
			if !ok {
				fmt.Fprintf(b, " – |")
			} else {
				fmt.Fprintf(b, " %s |", g4(x))
			}
		}
		fmt.Fprintf(b, " %d/%d |\n", wins, len(tasks))
	}
	fmt.Fprintf(b, "\nCommands (first seed):\n\n")
	for _, g := range gs {
		if g.Group == "remedy" {
			fmt.Fprintf(b, "- %s, %s: `%s`\n", g.Task, g.Method, g.Runs[0].Command)
		}
	}
	fmt.Fprintf(b, "\n")
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func writeRuns(path string, res *Results) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"suite", "task", "group", "method", "seed", "train_loss", "test_loss", "test_accuracy", "steps", "seconds",
		"forwards", "backwards", "jets", "fallbacks", "steps_to_target", "seconds_to_target", "diverged", "reasons", "command"})
	f := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', 6, 64)
	}
	for _, r := range res.Runs {
		cw.Write([]string{res.Suite, r.Task, r.Group, r.Method, strconv.FormatUint(r.Seed, 10), f(lossOf(r)), f(float64(r.TestLoss)),
			f(float64(r.TestAccuracy)), strconv.Itoa(r.Steps), f(r.Seconds), strconv.Itoa(r.Forwards), strconv.Itoa(r.Backwards),
			strconv.Itoa(r.Jets), strconv.Itoa(r.Fallbacks()), strconv.Itoa(r.StepsToTarget), f(float64(r.SecondsToTarget)),
			strconv.FormatBool(r.Diverged()), reasons(&group{Runs: []*Result{r}}), r.Command})
	}
	cw.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("compare: report: %w", err)
	}
	return nil
}

func writeCurves(path string, res *Results) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write([]string{"task", "method", "seed", "step", "seconds", "loss", "smooth", "lr"})
	for _, r := range res.Runs {
		c := r.Curve
		n := len(c.Step)
		stride := max(1, (n+49)/50)
		for i := 0; i < n; i += stride {
			cw.Write([]string{r.Task, r.Method, strconv.FormatUint(r.Seed, 10), strconv.Itoa(c.Step[i]),
				strconv.FormatFloat(c.Seconds[i], 'g', 5, 64), strconv.FormatFloat(c.Loss[i], 'g', 5, 64),
				strconv.FormatFloat(c.Smooth[i], 'g', 5, 64), strconv.FormatFloat(c.LR[i], 'g', 5, 64)})
		}
	}
	cw.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("compare: report: %w", err)
	}
	return nil
}
