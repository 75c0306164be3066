package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProbeDefaultOutIsAFreshRunDirectory runs gen probe without --out from
// a folder that, like the repository root, holds a probe/ folder: the files
// must go to runs/probe-DATE-TIME and the probe/ folder stay untouched.
func TestProbeDefaultOutIsAFreshRunDirectory(t *testing.T) {
	wd := t.TempDir()
	if err := os.Mkdir(filepath.Join(wd, "probe"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "probe", "--data", "synthetic", "--hidden", "4", "--alphas", "0:0.1:5")
	cmd.Dir = wd
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen probe: %v\n%s", err, out)
	}
	if ents, _ := os.ReadDir(filepath.Join(wd, "probe")); len(ents) != 0 {
		t.Fatalf("gen probe wrote %d files into ./probe", len(ents))
	}
	runs, err := filepath.Glob(filepath.Join(wd, "runs", "probe-*", "probe.csv"))
	if err != nil || len(runs) != 1 {
		t.Fatalf("want one runs/probe-*/probe.csv, got %v (%v)", runs, err)
	}
	if name := filepath.Base(filepath.Dir(runs[0])); len(name) != len("probe-20060102-150405") || !strings.HasPrefix(name, "probe-") {
		t.Fatalf("run directory %q is not probe-YYYYMMDD-HHMMSS", name)
	}
}

// With --precision f64 the data is held in float64: on a single-layer
// linear model with half-squared loss and a batch of one example, exact GeN
// along the SGD direction is α* = 1/(1 + ‖x‖²) of the file's values (the
// bias adds the 1), to rounding. Every row has the same features, so
// whichever row the batch draws, x is known; the targets differ.
func TestProbeF64HoldsTheFilesValues(t *testing.T) {
	const a, b = "0.1234567891234", "2.718281828459045"
	csv := "a,b,y\n"
	for _, y := range []string{"1", "2", "3.5", "-1", "0.25"} {
		csv += a + "," + b + "," + y + "\n"
	}
	path := filepath.Join(t.TempDir(), "same.csv")
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := gen(t, "probe", "--data", "csv:"+path, "--task", "regression", "--standardize=false", "--hidden", "",
		"--loss", "half-sq", "--opt", "sgd", "--batch", "1", "--precision", "f64", "--json", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		AlphaExact float64 `json:"alpha_exact"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	x1, _ := strconv.ParseFloat(a, 64)
	x2, _ := strconv.ParseFloat(b, 64)
	want := 1 / (1 + x1*x1 + x2*x2)
	if rel := math.Abs(r.AlphaExact-want) / want; rel > 1e-15 {
		t.Fatalf("α* = %.17g, 1/(1+‖x‖²) = %.17g: relative difference %.2g (float32 data gives ~4e-8)", r.AlphaExact, want, rel)
	}
}
