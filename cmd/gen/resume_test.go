package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// --resume refuses flags that would change the run, all at once and with
// the run's values, accepts a flag equal to the run's value, and applies
// and reports a new length.
func TestResumeFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, code := gen(t, "train", "--data", "synthetic", "--steps", "20", "--batch", "32", "--quiet", "--out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, stderr, code := gen(t, "train", "--resume", dir, "--seed", "2", "--lr", "const:0.1", "--opt", "sgd", "--out", dir+"-x", "--quiet")
	for _, want := range []string{"--seed 2 (the run has 1)", "--lr const:0.1 (the run has gen)", "--opt sgd (the run has adam)", "--out " + dir + "-x", "--resume accepts --epochs"} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("conflicting flags: exit %d, stderr %q; want it to name %q", code, stderr, want)
		}
	}
	if _, stderr, code := gen(t, "train", "--resume", dir, "--seed", "1", "--batch", "32", "--out", dir, "--quiet"); code != 0 {
		t.Fatalf("flags equal to the run's: exit %d: %s", code, stderr)
	}
	out, stderr, code := gen(t, "train", "--resume", dir, "--steps", "30", "--json")
	if code != 0 || !strings.Contains(out, `"steps":30`) || !strings.Contains(stderr, "length: 30 steps in all (was 20 steps)") {
		t.Fatalf("--resume with --steps 30: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	// The new length is the run's now: a plain resume keeps it.
	if out, stderr, code := gen(t, "train", "--resume", dir, "--json"); code != 0 || !strings.Contains(out, `"steps":30`) {
		t.Fatalf("plain resume after the extension: exit %d, %q, %s", code, out, stderr)
	}
	if _, stderr, code := gen(t, "train", "--resume", dir, "--steps", "25", "--quiet"); code == 0 || !strings.Contains(stderr, "at least 30 steps") {
		t.Fatalf("--steps below the checkpoint: exit %d, %q", code, stderr)
	}
}
