package compare

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/genopt/gen/train"
)

// Redraw redraws the figures of the report in dir (fig/TASK-*.png) from
// its stored raw metrics, runs.csv and curves.csv, without training: the
// way to restyle a published report. It returns the files written.
//
// curves.csv holds up to 50 points of each run's curve (step, seconds,
// batch loss, trailing-mean loss, learning rate) and no test accuracy, so
// the loss and learning-rate figures are redrawn at that resolution and an
// accuracy figure is not (an existing one is left as it is; `gen compare
// --report-only` redraws everything from a work directory's results.json).
func Redraw(dir string) ([]string, error) {
	res, err := loadCSV(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "fig"), 0o755); err != nil {
		return nil, fmt.Errorf("compare: redraw: %w", err)
	}
	gs := groups(res.Runs)
	var out []string
	for _, ti := range res.Tasks {
		for _, name := range figures(dir, ti, mainByLoss(gs, ti.Name)) {
			out = append(out, filepath.Join(dir, "fig", name))
		}
	}
	return out, nil
}

// loadCSV rebuilds the results of a report from its runs.csv and
// curves.csv: per run its task, group, method, seed, final loss and whether
// it diverged, and its stored curve. Tasks are in first-seen order and
// carry their names only.
func loadCSV(dir string) (*Results, error) {
	runs, err := readCSV(filepath.Join(dir, "runs.csv"), []string{"suite", "task", "group", "method", "seed", "train_loss", "diverged"})
	if err != nil {
		return nil, err
	}
	res := &Results{}
	byKey := map[string]*Result{}
	key := func(task, method string, seed uint64) string {
		return fmt.Sprintf("%s\x00%s\x00%d", task, method, seed)
	}
	for i, row := range runs.rows {
		where := fmt.Sprintf("%s line %d", runs.path, i+2)
		seed, err := strconv.ParseUint(row[runs.col["seed"]], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("compare: %s: seed %q is not a non-negative integer", where, row[runs.col["seed"]])
		}
		r := &Result{Task: row[runs.col["task"]], Group: row[runs.col["group"]], Method: row[runs.col["method"]], Seed: seed}
		r.TrainLoss = train.Num(math.NaN())
		if v := row[runs.col["train_loss"]]; v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("compare: %s: train_loss %q is not a number", where, v)
			}
			r.TrainLoss = train.Num(f)
		}
		switch row[runs.col["diverged"]] {
		case "true":
			r.Err = "diverged"
		case "false":
		default:
			return nil, fmt.Errorf("compare: %s: diverged %q is neither true nor false", where, row[runs.col["diverged"]])
		}
		if _, dup := byKey[key(r.Task, r.Method, seed)]; dup {
			return nil, fmt.Errorf("compare: %s: task %s, method %s, seed %d appears twice", where, r.Task, r.Method, seed)
		}
		byKey[key(r.Task, r.Method, seed)] = r
		res.Suite = row[runs.col["suite"]]
		if !slices.ContainsFunc(res.Tasks, func(t TaskInfo) bool { return t.Name == r.Task }) {
			res.Tasks = append(res.Tasks, TaskInfo{Task: Task{Name: r.Task}})
		}
		res.Runs = append(res.Runs, r)
	}
	curves, err := readCSV(filepath.Join(dir, "curves.csv"), []string{"task", "method", "seed", "step", "seconds", "loss", "smooth", "lr"})
	if err != nil {
		return nil, err
	}
	for i, row := range curves.rows {
		where := fmt.Sprintf("%s line %d", curves.path, i+2)
		seed, err := strconv.ParseUint(row[curves.col["seed"]], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("compare: %s: seed %q is not a non-negative integer", where, row[curves.col["seed"]])
		}
		r := byKey[key(row[curves.col["task"]], row[curves.col["method"]], seed)]
		if r == nil {
			return nil, fmt.Errorf("compare: %s: no run %s / %s / seed %d in runs.csv", where, row[curves.col["task"]], row[curves.col["method"]], seed)
		}
		step, err := strconv.Atoi(row[curves.col["step"]])
		if err != nil {
			return nil, fmt.Errorf("compare: %s: step %q is not an integer", where, row[curves.col["step"]])
		}
		var v [4]float64
		for j, name := range []string{"seconds", "loss", "smooth", "lr"} {
			if v[j], err = strconv.ParseFloat(row[curves.col[name]], 64); err != nil {
				return nil, fmt.Errorf("compare: %s: %s %q is not a number", where, name, row[curves.col[name]])
			}
		}
		c := &r.Curve
		c.Step = append(c.Step, step)
		c.Seconds, c.Loss, c.Smooth, c.LR = append(c.Seconds, v[0]), append(c.Loss, v[1]), append(c.Smooth, v[2]), append(c.LR, v[3])
	}
	return res, nil
}

// table is a CSV file's rows below the header, with the header's columns
// by name.
type table struct {
	path string
	col  map[string]int
	rows [][]string
}

// readCSV reads the CSV file at path and checks that its header has the
// columns want.
func readCSV(path string, want []string) (table, error) {
	t := table{path: path, col: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		return t, fmt.Errorf("compare: redraw: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return t, fmt.Errorf("compare: redraw: %w", err)
	}
	if len(rows) == 0 {
		return t, fmt.Errorf("compare: redraw: %s is empty", path)
	}
	for i, name := range rows[0] {
		t.col[name] = i
	}
	for _, name := range want {
		if _, ok := t.col[name]; !ok {
			return t, fmt.Errorf("compare: redraw: %s has no column %q (a report written by gen compare has it)", path, name)
		}
	}
	t.rows = rows[1:]
	return t, nil
}
