package compare

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genopt/gen/train"
)

// handResults is a small report by hand: one task, two main methods over
// two seeds (one run of DoG diverged) and one grid run.
func handResults() *Results {
	curve := func(scale float64) Curve {
		var c Curve
		for i := 1; i <= 5; i++ {
			c.Step = append(c.Step, 10*i)
			c.Seconds = append(c.Seconds, 0.5*float64(i))
			c.Loss = append(c.Loss, scale/float64(i))
			c.Smooth = append(c.Smooth, scale/float64(i)+0.25)
			c.LR = append(c.LR, 0.125*float64(i))
		}
		return c
	}
	run := func(group, method string, seed uint64, loss, scale float64, err string) *Result {
		return &Result{Task: "toy", Group: group, Method: method, Seed: seed, TrainLoss: train.Num(loss), Err: err,
			TestLoss: train.Num(math.NaN()), TestAccuracy: train.Num(math.NaN()), SecondsToTarget: train.Num(math.NaN()),
			Command: "gen train --seed 1", Curve: curve(scale)}
	}
	return &Results{Suite: "hand", Seeds: []uint64{1, 2}, Tasks: []TaskInfo{{Task: Task{Name: "toy"}}}, Runs: []*Result{
		run("main", "GeN-Adam", 1, 0.5, 2, ""),
		run("main", "GeN-Adam", 2, 0.75, 4, ""),
		run("main", "DoG", 1, 0.25, 8, ""),
		run("main", "DoG", 2, math.Inf(1), 16, "non-finite loss"),
		run("grid", "Adam const:0.001", 1, 1, 1, ""),
	}}
}

// The results rebuilt from runs.csv and curves.csv are the ones written:
// groups, seeds, final losses, divergence and every stored curve point.
func TestLoadCSVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := handResults()
	if err := writeRuns(filepath.Join(dir, "runs.csv"), want); err != nil {
		t.Fatal(err)
	}
	if err := writeCurves(filepath.Join(dir, "curves.csv"), want); err != nil {
		t.Fatal(err)
	}
	got, err := loadCSV(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Suite != "hand" || len(got.Tasks) != 1 || got.Tasks[0].Name != "toy" || len(got.Runs) != len(want.Runs) {
		t.Fatalf("loaded suite %q, tasks %v, %d runs", got.Suite, got.Tasks, len(got.Runs))
	}
	for i, w := range want.Runs {
		g := got.Runs[i]
		if g.Task != w.Task || g.Group != w.Group || g.Method != w.Method || g.Seed != w.Seed || g.Diverged() != w.Diverged() {
			t.Fatalf("run %d: got %+v, want %+v", i, g, w)
		}
		if !w.Diverged() && g.TrainLoss != w.TrainLoss {
			t.Errorf("run %d: train loss %v, want %v", i, g.TrainLoss, w.TrainLoss)
		}
		for j := range w.Curve.Step {
			// curves.csv keeps 5 significant digits.
			if g.Curve.Step[j] != w.Curve.Step[j] || !digits5(g.Curve.Seconds[j], w.Curve.Seconds[j]) || !digits5(g.Curve.Smooth[j], w.Curve.Smooth[j]) ||
				!digits5(g.Curve.Loss[j], w.Curve.Loss[j]) || !digits5(g.Curve.LR[j], w.Curve.LR[j]) {
				t.Fatalf("run %d point %d: got %+v, want %+v", i, j, g.Curve, w.Curve)
			}
		}
	}
	// A curve of a run runs.csv does not list is an error naming the line.
	os.WriteFile(filepath.Join(dir, "curves.csv"), []byte("task,method,seed,step,seconds,loss,smooth,lr\ntoy,SPS,1,1,0,1,1,1\n"), 0o644)
	if _, err := loadCSV(dir); err == nil || !strings.Contains(err.Error(), "curves.csv line 2") {
		t.Fatalf("unknown run: error %v", err)
	}
}

func digits5(got, want float64) bool { return math.Abs(got-want) <= 5e-5*math.Abs(want) }

// The comparison figures keep the legend beside the plot, draw the GeN
// rows heavier than the others, hold the main methods only, best first, and
// average the finished seeds (DoG's diverged seed is left out).
func TestFigureStyle(t *testing.T) {
	res := handResults()
	main := mainByLoss(groups(res.Runs), "toy")
	figs := figureSpecs(res.Tasks[0], main)
	if len(figs) != 3 {
		t.Fatalf("%d figures; want loss-steps, loss-seconds and lr-steps", len(figs))
	}
	for _, f := range figs {
		if !f.chart.LegendBeside {
			t.Errorf("%s: legend inside the plot", f.name)
		}
		if len(f.series) != 2 || f.series[0].Name != "GeN-Adam" || f.series[1].Name != "DoG" {
			t.Fatalf("%s: series %v; want GeN-Adam (finished) then DoG (diverged)", f.name, f.series)
		}
		// Styles follow the alphabetical order (DoG, GeN-Adam), not the rank.
		if f.series[0].Style != 2 || f.series[1].Style != 1 {
			t.Errorf("%s: styles %d, %d; want 2 (GeN-Adam) and 1 (DoG)", f.name, f.series[0].Style, f.series[1].Style)
		}
		if !f.series[0].Heavy || f.series[1].Heavy {
			t.Errorf("%s: GeN heavy %v, DoG heavy %v", f.name, f.series[0].Heavy, f.series[1].Heavy)
		}
	}
	// Mean over seeds of the trailing-mean loss at step 10: (2 + 4)/2 + 0.25.
	if got := figs[0].series[0].Y[0]; got != 3.25 {
		t.Errorf("GeN-Adam mean loss at step 10 = %v, want 3.25", got)
	}
	if got := figs[0].series[1].Y[0]; got != 8.25 {
		t.Errorf("DoG loss at step 10 = %v, want 8.25 (the finished seed only)", got)
	}
	dir := t.TempDir()
	for _, name := range []string{"runs.csv", "curves.csv"} {
		write := map[string]func(string, *Results) error{"runs.csv": writeRuns, "curves.csv": writeCurves}[name]
		if err := write(filepath.Join(dir, name), res); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Redraw(dir)
	if err != nil || len(files) != 3 {
		t.Fatalf("Redraw wrote %v: %v", files, err)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
