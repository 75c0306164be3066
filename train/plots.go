package train

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/genopt/gen/plot"
)

// Plot draws the charts of the run in dir from its metrics files: loss.png
// and loss.svg (training loss per step, test loss per epoch), lr.png and
// lr.svg (learning rate per step, log scale), and accuracy.png/.svg for a
// classification. It is what `gen plot RUN_DIR` runs.
func Plot(dir string) error {
	steps, err := readJSONL[StepRecord](filepath.Join(dir, "metrics.jsonl"), true)
	if err != nil {
		return err
	}
	if len(steps) == 0 {
		return fmt.Errorf("train: %s has no step metrics (metrics.jsonl) to plot", dir)
	}
	epochs, err := readJSONL[EpochRecord](filepath.Join(dir, "epochs.jsonl"), true)
	if err != nil {
		return err
	}
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
	charts := []struct {
		name   string
		chart  plot.Chart
		series []plot.Series
	}{
		{"loss", plot.Chart{Title: "Loss", XLabel: "step", YLabel: "loss", LogY: true},
			[]plot.Series{{Name: "train (batch)", X: x, Y: loss}, {Name: "test", X: ex, Y: el}}},
		{"lr", plot.Chart{Title: "Learning rate", XLabel: "step", YLabel: "learning rate", LogY: true},
			[]plot.Series{{Name: "lr", X: x, Y: lr}}},
	}
	if len(acc) == len(epochs) && len(acc) > 0 {
		charts = append(charts, struct {
			name   string
			chart  plot.Chart
			series []plot.Series
		}{"accuracy", plot.Chart{Title: "Test accuracy", XLabel: "step", YLabel: "accuracy (%)"}, []plot.Series{{Name: "test", X: ex, Y: acc}}})
	}
	for _, c := range charts {
		for _, ext := range []string{".png", ".svg"} {
			if err := plot.SaveLines(filepath.Join(dir, c.name+ext), c.chart, c.series...); err != nil && !errors.Is(err, plot.ErrNoData) {
				return err
			}
		}
	}
	return nil
}
