package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin is the gen binary built once for these tests: they run the real
// command line, as a user would.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gen-cmd-test")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "gen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gen runs the binary and returns stdout, stderr and the exit status.
func gen(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestTrainCSVJSONSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, code := gen(t, "train", "--data", "csv:testdata/flowers.csv", "--hidden", "8", "--epochs", "4", "--batch", "16", "--json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	for _, k := range []string{"train_loss", "test_loss", "test_accuracy", "steps", "wall_seconds", "final_lr", "fallbacks", "run_dir"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary lacks %q: %s", k, out)
		}
	}
	if s["run_dir"] != dir {
		t.Errorf("run_dir %v, want %s", s["run_dir"], dir)
	}
	for _, f := range []string{"metrics.csv", "loss.png", "checkpoint/weights.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// gen plot redraws the charts.
	os.Remove(filepath.Join(dir, "loss.png"))
	if _, stderr, code := gen(t, "plot", dir); code != 0 {
		t.Fatalf("gen plot: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "loss.png")); err != nil {
		t.Fatal("gen plot did not redraw loss.png")
	}
}

func TestResumeFinishesTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := gen(t, "train", "--data", "synthetic", "--steps", "20", "--batch", "32", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out, stderr, code := gen(t, "train", "--resume", dir, "--json")
	if code != 0 {
		t.Fatalf("resume of a finished run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"steps":20`) {
		t.Fatalf("resumed summary %s", out)
	}
}

func TestBadInputsExplainThemselves(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--opt", "adamax"}, "valid: sgd, momentum"},
		{[]string{"train", "--lr", "exp:0.1"}, "const:X"},
		{[]string{"train", "--probe", "next"}, "fresh, same, stream"},
		{[]string{"train", "--data", "csv:testdata/bad.csv"}, "bad.csv:3"},
		{[]string{"train", "--data", "csv:testdata/missing.csv"}, "missing.csv"},
		{[]string{"train", "--data", "synthetic", "--loss", "ce"}, "does not fit"},
		{[]string{"probe", "--alphas", "1:0:5"}, "FROM:TO:N"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		_, stderr, code := gen(t, c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("gen %v: exit %d, stderr %q; want failure mentioning %q", c.args, code, stderr, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, sub := range []string{"train", "probe", "plot"} {
		_, stderr, code := gen(t, sub, "--help")
		if code != 0 || !strings.Contains(stderr, "Usage: gen "+sub) {
			t.Errorf("gen %s --help: exit %d, %q", sub, code, stderr)
		}
	}
}

func TestProbeSingleLayerClosedForm(t *testing.T) {
	out, stderr, code := gen(t, "probe", "--data", "synthetic", "--hidden", "", "--loss", "half-sq", "--opt", "sgd", "--out-act", "relu", "--precision", "f64", "--json", "--out", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		AlphaExact, AlphaClosedForm, ValidityInterval *float64
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for k, dst := range map[string]**float64{"alpha_exact": &r.AlphaExact, "alpha_closed_form": &r.AlphaClosedForm, "validity_interval": &r.ValidityInterval} {
		if err := json.Unmarshal(raw[k], dst); err != nil || *dst == nil {
			t.Fatalf("%s missing in %s", k, out)
		}
	}
	if d := *r.AlphaExact - *r.AlphaClosedForm; d*d > 1e-20**r.AlphaExact**r.AlphaExact {
		t.Fatalf("jet α* %v, closed form %v", *r.AlphaExact, *r.AlphaClosedForm)
	}
}
