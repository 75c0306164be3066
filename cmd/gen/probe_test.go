package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
