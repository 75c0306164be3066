package train

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/genopt/gen/plot"
)

// Plot draws the charts of the run in dir from its metrics files, as
// PlotCharts does, and drops the account of what it drew.
func Plot(dir string) error {
	_, err := PlotCharts(dir)
	return err
}

// Charts is what PlotCharts did: the files it wrote, and the charts it could
// not draw with the reason and the stale files it removed.
type Charts struct {
	// Written lists the paths of the files drawn.
	Written []string
	// Skipped lists the charts with nothing to draw.
	Skipped []SkippedChart
}

// SkippedChart is a chart PlotCharts could not draw.
type SkippedChart struct {
	// Name is the chart's base name (loss, lr, accuracy).
	Name string
	// Why says what was missing.
	Why string
	// Removed lists the files of an earlier drawing that PlotCharts deleted,
	// so that no chart on disk is older than the metrics.
	Removed []string
}

// PlotCharts draws the charts of the run in dir from its metrics files:
// loss.png and loss.svg (training loss per step, test loss per
// evaluation), lr.png and lr.svg (learning rate per step, log scale), and
// accuracy.png/.svg for a classification. A chart with no point to draw
// (for example lr when every rate is ≤ 0 or null: a log scale cannot place
// it) is not drawn, and an earlier file of that chart is removed, so that a
// chart on disk always shows the current metrics. It is what `gen plot
// RUN_DIR` runs.
func PlotCharts(dir string) (Charts, error) {
	var done Charts
	steps, err := readJSONL[StepRecord](filepath.Join(dir, "metrics.jsonl"), true)
	if err != nil {
		return done, err
	}
	if len(steps) == 0 {
		return done, fmt.Errorf("train: %s has no step metrics (metrics.jsonl) to plot", dir)
	}
	epochs, err := readJSONL[EpochRecord](filepath.Join(dir, "epochs.jsonl"), true)
	if err != nil {
		return done, err
	}
	charts := runCharts(steps, epochs)
	for _, c := range charts {
		var skip *SkippedChart
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(dir, c.name+ext)
			err := plot.SaveLines(path, c.chart, c.series...)
			switch {
			case err == nil:
				done.Written = append(done.Written, path)
				continue
			case !errors.Is(err, plot.ErrNoData):
				return done, err
			}
			if skip == nil {
				done.Skipped = append(done.Skipped, SkippedChart{Name: c.name, Why: c.empty})
				skip = &done.Skipped[len(done.Skipped)-1]
			}
			switch rerr := os.Remove(path); {
			case rerr == nil:
				skip.Removed = append(skip.Removed, path)
			case !errors.Is(rerr, fs.ErrNotExist):
				return done, fmt.Errorf("train: chart %s has nothing to draw, and its old file cannot be removed: %w", path, rerr)
			}
		}
	}
	return done, nil
}

// chart is one chart of a run: its base name, its layout and its series,
// and what is missing when none of its points can be drawn.
type chart struct {
	name   string
	chart  plot.Chart
	series []plot.Series
	empty  string
}

// runCharts lays out the charts of a run from its step and evaluation
// records.
//
// The loss chart draws the batch loss faint, its exponential moving average
// (emaSpan) over it, and the test loss at every evaluation, the first at
// step 0 where the run logged one. The learning-rate chart needs a
// positive rate (log scale); the accuracy chart, a classification's
// accuracies.
func runCharts(steps []StepRecord, epochs []EpochRecord) []chart {
	n := len(steps)
	x, loss, lr := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, s := range steps {
		x[i], loss[i], lr[i] = float64(s.Step), s.Loss, s.LR
	}
	ex, el := make([]float64, len(epochs)), make([]float64, len(epochs))
	var acc []float64
	for i, e := range epochs {
		ex[i], el[i] = float64(e.Step), float64(e.TestLoss)
		if e.TestAccuracy != nil {
			acc = append(acc, 100**e.TestAccuracy)
		}
	}
	span := emaSpan(n)
	charts := []chart{
		{"loss", plot.Chart{Title: "Loss", XLabel: "step", YLabel: "loss", LogY: true},
			[]plot.Series{
				{Name: "train (batch)", X: x, Y: loss, Faint: true},
				{Name: fmt.Sprintf("train (EMA, %d steps)", span), X: x, Y: ema(loss, span)},
				{Name: "test", X: ex, Y: el},
			}, "no finite positive loss"},
		{"lr", plot.Chart{Title: "Learning rate", XLabel: "step", YLabel: "learning rate", LogY: true},
			[]plot.Series{{Name: "lr", X: x, Y: lr}}, "no finite positive learning rate (a log scale cannot place 0, negative or null rates)"},
	}
	if len(acc) == len(epochs) && len(acc) > 0 {
		charts = append(charts, chart{"accuracy", plot.Chart{Title: "Test accuracy", XLabel: "step", YLabel: "accuracy (%)"},
			[]plot.Series{{Name: "test", X: ex, Y: acc}}, "no finite accuracy"})
	}
	return charts
}

// emaSpan is the span of the moving average of a loss curve of n steps:
// about a fiftieth of the run, between 5 and 100 steps.
func emaSpan(n int) int { return min(100, max(5, n/50)) }

// ema returns the exponential moving average of y with span s (weight
// β = 1 − 2/(s+1) on the past), bias-corrected as Adam's moments are:
// m_t = β·m_{t−1} + (1−β)·y_t, out_t = m_t / (1 − β^t) counting finite
// values only, so the first value is y_0 itself and the curve does not
// start near zero. Non-finite values are skipped (their output repeats the
// previous average; NaN before the first finite value).
func ema(y []float64, s int) []float64 {
	beta := 1 - 2/float64(s+1)
	out := make([]float64, len(y))
	m, w := 0.0, 0.0 // w = 1 − β^t, the weight the average has gathered
	for i, v := range y {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m = beta*m + (1-beta)*v
			w = beta*w + (1 - beta)
		}
		out[i] = math.NaN()
		if w > 0 {
			out[i] = m / w
		}
	}
	return out
}
