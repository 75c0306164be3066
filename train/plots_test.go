package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEMAByHand checks the bias-corrected moving average against values
// computed by hand for span 3 (β = 1/2): 1, (0.25 + 1.5)/0.75 = 7/3, the
// same across a NaN, then (0.875 + 1)/0.875 = 15/7.
func TestEMAByHand(t *testing.T) {
	got := ema([]float64{1, 3, math.NaN(), 2}, 3)
	want := []float64{1, 7.0 / 3, 7.0 / 3, 15.0 / 7}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("ema = %v, want %v", got, want)
		}
	}
	if v := ema([]float64{math.NaN(), 4}, 5); !math.IsNaN(v[0]) || v[1] != 4 {
		t.Fatalf("ema with a leading NaN = %v, want [NaN 4]", v)
	}
}

// The loss chart draws the raw batch loss faint under its moving average,
// and the test curve starts at step 0, where the training curve starts.
func TestLossChartSmoothsAndStartsTogether(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	epochs, err := readJSONL[EpochRecord](filepath.Join(dir, "epochs.jsonl"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) < 2 || epochs[0].Step != 0 || epochs[0].Epoch != 0 {
		t.Fatalf("epochs.jsonl starts with %+v; want an evaluation at step 0", epochs)
	}
	// The step-0 test loss is the initial model's: a fresh runner of the
	// same configuration evaluates to it exactly.
	r := &runner[float32]{cfg: tiny().Defaults(), dir: dir}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	ev, err := r.evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := epochs[0].TestLoss, ev.TestLoss; got != want || math.IsNaN(float64(got)) {
		t.Fatalf("step-0 test loss %v, the initial weights give %v", got, want)
	}
	steps, err := readJSONL[StepRecord](filepath.Join(dir, "metrics.jsonl"), false)
	if err != nil {
		t.Fatal(err)
	}
	loss := runCharts(steps, epochs)[0]
	if loss.name != "loss" || len(loss.series) != 3 || !loss.series[0].Faint || loss.series[1].Faint ||
		!strings.Contains(loss.series[1].Name, "EMA") || loss.series[2].X[0] != 0 {
		t.Fatalf("loss chart series %+v", loss.series)
	}
	raw := make([]float64, len(steps))
	for i, s := range steps {
		raw[i] = s.Loss
	}
	want := ema(raw, emaSpan(len(raw)))
	for i, v := range loss.series[1].Y {
		if v != want[i] {
			t.Fatalf("EMA curve %v, want %v", loss.series[1].Y, want)
		}
	}
}

// A chart that cannot be drawn (every learning rate 0: nothing to place on
// a log scale) is reported and its old files are removed, never left stale.
func TestPlotRemovesAChartItCannotDraw(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"lr.png", "lr.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	// Set every rate to 0 in metrics.jsonl.
	path := filepath.Join(dir, "metrics.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		if _, ok := row["lr"]; !ok {
			t.Fatalf("metrics.jsonl row without lr: %s", sc.Text())
		}
		row["lr"] = 0
		b, _ := json.Marshal(row)
		out.Write(append(b, '\n'))
	}
	f.Close()
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	charts, err := PlotCharts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts.Skipped) != 1 || charts.Skipped[0].Name != "lr" || len(charts.Skipped[0].Removed) != 2 {
		t.Fatalf("skipped %+v; want the lr chart, with its two old files removed", charts.Skipped)
	}
	for _, f := range []string{"lr.png", "lr.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (stat: %v)", f, err)
		}
	}
	if len(charts.Written) != 2 { // loss.png and loss.svg
		t.Errorf("written %v; want loss.png and loss.svg", charts.Written)
	}
}
