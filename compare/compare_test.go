package compare

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genopt/gen/train"
)

// TestTinySuiteReport runs the tiny suite (a few steps of synthetic data)
// and checks that the report names every method and command and that the
// raw metrics hold every run. It does not look at who wins.
func TestTinySuiteReport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains about 60 tiny runs")
	}
	work, out := t.TempDir(), t.TempDir()
	s := Tiny()
	res, err := Run(context.Background(), s, Options{WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if err := Report(out, res, ReportOptions{Notes: "NOTES-MARKER"}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	var want []string
	for _, m := range append(append(GeNMethods(), PeerMethods()...), RemedyMethods()...) {
		want = append(want, "| "+m.Name+" |")
	}
	want = append(want, "NOTES-MARKER", "| SGD best const |", "| Adam cosine |", "## Headline numbers", "## GeN sensitivity", "## Remedies")
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	for _, r := range res.Runs {
		// The report prints the first seed's command of every row.
		if !strings.HasPrefix(r.Command, "gen train ") || r.Seed == s.Seeds[0] && !strings.Contains(report, "`"+r.Command+"`") {
			t.Errorf("run %s seed %d: command %q missing from the report", r.Method, r.Seed, r.Command)
		}
		if r.Steps != s.Tasks[0].Base.Steps && !r.Diverged() && !strings.Contains(r.Method, "batch") {
			t.Errorf("run %s seed %d: got %d steps, want %d", r.Method, r.Seed, r.Steps, s.Tasks[0].Base.Steps)
		}
	}
	f, err := os.Open(filepath.Join(out, "runs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.Runs)+1 {
		t.Errorf("runs.csv: got %d rows, want %d runs + header", len(rows), len(res.Runs))
	}
	for _, name := range []string{"curves.csv", "fig/synthetic-loss-steps.png", "fig/synthetic-loss-seconds.png", "fig/synthetic-lr-steps.png"} {
		if st, err := os.Stat(filepath.Join(out, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: not written (%v)", name, err)
		}
	}
	// A second run over the same work directory reuses every result.
	again, err := Run(context.Background(), s, Options{WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Runs) != len(res.Runs) {
		t.Fatalf("rerun: got %d runs, want %d", len(again.Runs), len(res.Runs))
	}
	for i, r := range again.Runs {
		if r.Command != res.Runs[i].Command || r.Curve.Seconds[len(r.Curve.Seconds)-1] != res.Runs[i].Curve.Seconds[len(r.Curve.Seconds)-1] {
			t.Errorf("rerun %d (%s): not taken from the cache", i, r.Method)
		}
	}
}

func TestCommand(t *testing.T) {
	g := 0.0
	tests := []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{Seed: 1}, "gen train --seed 1"},
		{train.Config{Hidden: []int{}, Opt: "sgd", LR: "gen", Gamma: &g, Seed: 2},
			"gen train --hidden= --opt sgd --lr gen --gamma 0 --seed 2"},
		{train.Config{Data: "synthetic", Task: "regression", Hidden: []int{64, 32}, Batch: 32, Epochs: 20, FivePoint: true, ProbeFactor: 0.5, Seed: 3},
			"gen train --data synthetic --task regression --hidden=64,32 --probe-factor 0.5 --five-point --epochs 20 --batch 32 --seed 3"},
		{train.Config{Data: "csv:my file.csv", Seed: 1}, "gen train --data 'csv:my file.csv' --seed 1"},
	}
	for _, tt := range tests {
		if got := Command(tt.cfg); got != tt.want {
			t.Errorf("Command(%+v):\n got %s\nwant %s", tt.cfg, got, tt.want)
		}
	}
}

func TestTrailingMean(t *testing.T) {
	// By hand: window 2 over 1, 3, 5, 7 → 1, 2, 4, 6; window 10 → running means.
	tests := []struct {
		x    []float64
		w    int
		want []float64
	}{
		{[]float64{1, 3, 5, 7}, 2, []float64{1, 2, 4, 6}},
		{[]float64{1, 3, 5, 7}, 10, []float64{1, 2, 3, 4}},
		{[]float64{2, 4}, 0, []float64{2, 4}},
	}
	for _, tt := range tests {
		got := trailingMean(tt.x, tt.w)
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("trailingMean(%v, %d) = %v, want %v", tt.x, tt.w, got, tt.want)
				break
			}
		}
	}
}

func TestLogGrid(t *testing.T) {
	got := LogGrid(1e-3, 1, 7)
	want := []float64{0.001, 0.00316, 0.01, 0.0316, 0.1, 0.316, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("LogGrid(1e-3, 1, 7) = %v, want %v", got, want)
		}
	}
}

func TestSummarizeSkipsNonFinite(t *testing.T) {
	// Mean of 1 and 3 is 2, sample sd √2; the Inf (a diverged run) is counted
	// in Of but not in N.
	s := summarize([]float64{1, math.Inf(1), 3})
	if s.Mean != 2 || math.Abs(s.SD-math.Sqrt2) > 1e-15 || s.N != 2 || s.Of != 3 {
		t.Errorf("got %+v, want mean 2, sd √2, 2 of 3", s)
	}
}

func TestMeasureTarget(t *testing.T) {
	r := &Result{Curve: Curve{Step: []int{1, 2, 3}, Smooth: []float64{3, 1.5, 0.5}, Seconds: []float64{0.1, 0.2, 0.3}}}
	r.measureTarget(1.5)
	if r.StepsToTarget != 2 || float64(r.SecondsToTarget) != 0.2 {
		t.Errorf("got step %d, %v s; want 2, 0.2", r.StepsToTarget, r.SecondsToTarget)
	}
	r.measureTarget(0.1)
	if r.StepsToTarget != -1 || !math.IsNaN(float64(r.SecondsToTarget)) {
		t.Errorf("unreached target: got %d, %v; want -1, NaN", r.StepsToTarget, r.SecondsToTarget)
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"quick", "full", "gpt", "tiny"} {
		s, err := ByName(n)
		if err != nil || s.Name != n || len(s.Tasks) == 0 || len(s.Seeds) == 0 {
			t.Errorf("ByName(%q) = %+v, %v", n, s.Name, err)
		}
	}
	if _, err := ByName("huge"); err == nil || !strings.Contains(err.Error(), "quick, full, gpt, tiny") {
		t.Errorf("ByName(huge): got %v, want an error listing the suites", err)
	}
}

// TestGPTTaskReport runs the GPT task's methods on a one-block GPT for a
// few steps and checks the report: AdamW's grid and schedules, the main
// methods, ranking by the validation loss, the validation chart.
func TestGPTTaskReport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 14 small GPT runs")
	}
	task := GPTTask(6)
	task.Base.Layers, task.Base.Heads, task.Base.Embed, task.Base.Context = 1, 2, 8, 8
	task.Base.Threads = 1
	s := Suite{Name: "gpt-test", Tasks: []Task{task}, Seeds: []uint64{1}, Peers: true}
	work, out := t.TempDir(), t.TempDir()
	res, err := Run(context.Background(), s, Options{WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if err := Report(out, res, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	for _, w := range []string{"| GeN-AdamW (the gpt default) |", "| GeN-exact-AdamW |", "| AdamW best const |", "| AdamW nanoGPT cosine |",
		"| Prodigy |", "| D-Adapt-Adam |", "| AdamW const:0.001 |", "| AdamW warm-up + cosine, peak 0.001 |", "final validation loss", "--warmup 1"} {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if n := len(res.Runs); n != 14 {
		t.Errorf("got %d runs, want 8 grid + 6 main", n)
	}
	// Every run is ranked by its validation loss, and the best constant
	// is the grid's lowest validation loss.
	best, bestRate := math.Inf(1), 0.0
	for _, r := range res.Runs {
		if r.Metric != Validation || lossOf(r) != float64(r.TestLoss) {
			t.Errorf("%s: metric %v, ranked by %v, validation loss %v", r.Method, r.Metric, lossOf(r), r.TestLoss)
		}
		var lr float64
		if n, _ := fmt.Sscanf(r.Method, "AdamW const:%g", &lr); n == 1 && lossOf(r) < best {
			best, bestRate = lossOf(r), lr
		}
	}
	if res.Tasks[0].BestAdam != bestRate {
		t.Errorf("best constant AdamW rate %g, want %g (lowest validation loss %g)", res.Tasks[0].BestAdam, bestRate, best)
	}
	if st, err := os.Stat(filepath.Join(out, "fig", "text-gpt-validation-steps.png")); err != nil || st.Size() == 0 {
		t.Errorf("validation chart not written (%v)", err)
	}
}
