package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The gpt workflow from the command line: a tiny run prints a validation
// loss and a sample, and gen sample continues a prompt from its directory,
// the same text for the same seed.
func TestTrainGPTThenSample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, code := gen(t, "train", "--data", "text", "--model", "gpt", "--layers", "1", "--heads", "2", "--embed", "8",
		"--context", "8", "--steps", "4", "--threads", "1", "--quiet", "--out", dir)
	if code != 0 {
		t.Fatalf("gen train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "test loss") || !strings.Contains(out, "sample: ") {
		t.Errorf("gen train printed %q, want a test loss and samples", out)
	}
	a, stderr, code := gen(t, "sample", dir, "--prompt", "Light", "--tokens", "20", "--seed", "2")
	if code != 0 {
		t.Fatalf("gen sample: exit %d: %s", code, stderr)
	}
	b, _, _ := gen(t, "sample", "--prompt", "Light", "--tokens", "20", "--seed", "2", dir)
	if a != b || !strings.HasPrefix(a, "Light") || len([]rune(strings.TrimSuffix(a, "\n"))) != 25 {
		t.Errorf("gen sample printed %q and %q, want the same 25 characters starting with the prompt", a, b)
	}
	if _, stderr, code := gen(t, "sample"); code != 2 || !strings.Contains(stderr, "Usage: gen sample RUN_DIR") {
		t.Errorf("gen sample without a run directory: exit %d, %q", code, stderr)
	}
	if _, stderr, code := gen(t, "sample", dir, "--temperature", "-1"); code != 1 || !strings.Contains(stderr, "--temperature") {
		t.Errorf("negative temperature: exit %d, %q", code, stderr)
	}
}
