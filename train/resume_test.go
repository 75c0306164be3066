package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genopt/gen/checkpoint"
)

// finishedRun trains tiny() (12 steps, checkpoints every 4) into a fresh
// directory and returns it.
func finishedRun(t *testing.T) string {
	t.Helper()
	cfg := tiny()
	cfg.CheckpointEvery = 4
	cfg.LR = "gen-trust:2" // a wrapped rule: both the inner α and κ are checked
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), cfg, dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyRun copies the run directory src into a fresh directory: cheaper
// than training (and charting) a run for every case.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// editJSON rewrites the JSON file path through edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// forgeCheckpoint edits a file of the run's checkpoint and recomputes its
// size and SHA-256 in the manifest, as someone covering their tracks would:
// the hashes then no longer catch the change.
func forgeCheckpoint(t *testing.T, dir, file string, edit func(map[string]any)) {
	t.Helper()
	ck := filepath.Join(dir, "checkpoint")
	editJSON(t, filepath.Join(ck, file), edit)
	b, _ := os.ReadFile(filepath.Join(ck, file))
	sum := sha256.Sum256(b)
	var m checkpoint.Manifest
	if err := checkpoint.ReadJSON(filepath.Join(ck, checkpoint.ManifestFile), &m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Files {
		if m.Files[i].Name == file {
			m.Files[i].Size, m.Files[i].SHA256 = int64(len(b)), hex.EncodeToString(sum[:])
		}
	}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(ck, checkpoint.ManifestFile), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := checkpoint.ReadManifest(ck); err != nil {
		t.Fatalf("the forged checkpoint does not verify: %v", err)
	}
}

// A config.json edited by hand no longer matches the copy in the
// checkpoint's manifest: resume refuses it and names the field.
func TestResumeDetectsAHandEditedConfig(t *testing.T) {
	src := finishedRun(t)
	for _, tc := range []struct {
		field string
		value any
	}{
		{"seed", 2}, {"batch", 16}, {"precision", "f64"}, {"steps", 500}, {"lr", "const:0.1"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			dir := copyRun(t, src)
			editJSON(t, filepath.Join(dir, "config.json"), func(m map[string]any) { m[tc.field] = tc.value })
			_, err := Resume(context.Background(), dir, Hooks{})
			if err == nil || !strings.Contains(err.Error(), "config.json differs") || !strings.Contains(err.Error(), tc.field+":") {
				t.Fatalf("resume after editing %s: %v; want an error naming the field", tc.field, err)
			}
		})
	}
	// Deleting config.json is the way back: resume rewrites it from the
	// checkpoint's copy.
	dir := copyRun(t, src)
	want, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	os.Remove(filepath.Join(dir, "config.json"))
	if _, err := Resume(context.Background(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	var a, b Config
	got, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	json.Unmarshal(want, &a)
	json.Unmarshal(got, &b)
	if d := configDiff(a, b); len(d) > 0 {
		t.Fatalf("rewritten config.json differs: %v", d)
	}
}

// Values inside a checkpoint whose hashes were recomputed are still range
// checked: the trainer's step against the manifest, the optimizer and the
// run's length; the rule's α and κ; the counters and the data position.
func TestResumeValidatesLoadedValues(t *testing.T) {
	trainer := func(key string, v any) func(map[string]any) {
		return func(m map[string]any) { m["trainer"].(map[string]any)[key] = v }
	}
	rule := func(key string, v any) func(map[string]any) {
		return func(m map[string]any) {
			vals := m["rule"].(map[string]any)["values"].(map[string]any)
			if v == nil {
				delete(vals, key)
			} else {
				vals[key] = v
			}
		}
	}
	cases := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"step 10", trainer("step", 10), "manifest records 12"},
		{"step -1", trainer("step", -1), "negative"},
		{"step 999999", trainer("step", 999999), "manifest records 12"},
		{"negative alpha", rule("inner.alpha", -0.5), "alpha = -0.5"},
		{"missing alpha", rule("inner.alpha", nil), `no "alpha"`},
		{"kappa 0", rule("kappa", 0), "kappa = 0"},
		{"huge kappa", rule("kappa", 1e9), "kappa = 1e+09"},
		{"negative fallbacks", trainer("fallbacks", -3), "fallbacks is -3"},
		{"negative time", trainer("seconds", -1), "time is -1"},
		{"negative rate", trainer("lr", -0.1), "learning rate is -0.1"},
		{"data position", trainer("position", map[string]any{"Epoch": 0, "Index": 3}), "data position"},
	}
	src := finishedRun(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRun(t, src)
			forgeCheckpoint(t, dir, checkpoint.RuleFile, c.edit)
			_, err := Resume(context.Background(), dir, Hooks{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("resume with %s: %v; want an error containing %q", c.name, err, c.want)
			}
		})
	}
	// The manifest's step forged to match a forged trainer step: the
	// optimizer's own count still disagrees.
	dir := copyRun(t, src)
	forgeCheckpoint(t, dir, checkpoint.RuleFile, trainer("step", 8))
	editJSON(t, filepath.Join(dir, "checkpoint", checkpoint.ManifestFile), func(m map[string]any) { m["step"] = 8 })
	if _, err := Resume(context.Background(), dir, Hooks{}); err == nil || !strings.Contains(err.Error(), "optimizer has taken 12 steps") {
		t.Fatalf("resume with trainer and manifest at step 8: %v", err)
	}
}

// ResumeWith extends a run: it trains to the new length, reports the
// change, and records the new length in config.json and the checkpoint;
// a length below the steps taken is refused.
// A run started before a setting existed has no such key in config.json or
// in its checkpoint's manifest; it resumes with the setting's default.
func TestResumeARunOlderThanItsSettings(t *testing.T) {
	dir := copyRun(t, finishedRun(t))
	drop := func(m map[string]any) { delete(m, "anneal"); delete(m, "dist") }
	editJSON(t, filepath.Join(dir, "config.json"), drop)
	forgeCheckpoint(t, dir, checkpoint.ManifestFile, func(m map[string]any) { drop(m["config"].(map[string]any)) })
	if sum, err := ResumeWith(context.Background(), dir, ResumeOptions{Steps: 16}, Hooks{}); err != nil || sum.Steps != 16 {
		t.Fatalf("resuming a run whose config.json predates --anneal and --dist: %v", err)
	}
}

func TestResumeWithExtendsTheRun(t *testing.T) {
	dir := finishedRun(t)
	var notes []string
	sum, err := ResumeWith(context.Background(), dir, ResumeOptions{Steps: 20, Report: func(s string) { notes = append(notes, s) }}, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Steps != 20 || len(notes) != 1 || !strings.Contains(notes[0], "20 steps in all (was 12 steps)") {
		t.Fatalf("extended run: %d steps, notes %q", sum.Steps, notes)
	}
	if steps := stepsOf(t, dir); len(steps) != 20 || steps[19].Step != 20 {
		t.Fatalf("metrics after the extension: %d rows", len(steps))
	}
	cfg, err := RunConfig(dir) // config.json and the manifest agree on the new length
	if err != nil || cfg.Steps != 20 {
		t.Fatalf("RunConfig after the extension: steps %d, %v", cfg.Steps, err)
	}
	_, err = ResumeWith(context.Background(), dir, ResumeOptions{Steps: 15}, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "at least 20 steps") {
		t.Fatalf("a length below the checkpoint's step: %v", err)
	}
	if cfg, _ := RunConfig(dir); cfg.Steps != 20 {
		t.Fatalf("the refused length reached config.json: %d", cfg.Steps)
	}
}
