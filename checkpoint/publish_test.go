package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// stepState is a checkpoint whose every file depends on step, with a
// rule.json whose length changes from step to step (as a learning rate's
// digits do), so a reader mixing two checkpoints fails the size check.
func stepState(step int64) State[float32] {
	v := float32(step)
	return State[float32]{
		Step:   step,
		Params: []*ad.Var[float32]{ad.NewParam("w", tensor.FromSlice([]float32{v, -v, 0.5 * v}, 3))},
		Rule:   ruleState{LR: 1 / float64(step), Count: int(step)},
	}
}

// concurrentReads saves n checkpoints into dir while readers load it, and
// returns the failed reads and the number of successful ones.
func concurrentReads(t *testing.T, dir string, n int) (failures []string, reads int64) {
	t.Helper()
	if err := Save(dir, stepState(1)); err != nil {
		t.Fatal(err)
	}
	var done atomic.Bool
	var mu sync.Mutex
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				params := []*ad.Var[float32]{ad.NewParam("w", tensor.New[float32](3))}
				var rule ruleState
				m, err := Load(dir, &State[float32]{Params: params, Rule: &rule})
				msg := ""
				switch {
				case err != nil:
					msg = err.Error()
				case rule.Count != int(m.Step) || params[0].Value.Data()[0] != float32(m.Step):
					msg = fmt.Sprintf("manifest step %d, rule.json count %d, weight %g: two checkpoints mixed", m.Step, rule.Count, params[0].Value.Data()[0])
				}
				if msg != "" {
					mu.Lock()
					failures = append(failures, msg)
					mu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	for step := int64(2); step <= int64(n); step++ {
		if err := Save(dir, stepState(step)); err != nil {
			done.Store(true)
			wg.Wait()
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	return failures, ok.Load()
}

// A reader loading a checkpoint while it is replaced again and again gets
// a complete one every time, never files of two checkpoints or none.
func TestConcurrentReadersSeeCompleteCheckpoints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoint")
	failures, reads := concurrentReads(t, dir, 60)
	if len(failures) > 0 {
		t.Errorf("%d of %d reads failed during saves; first: %s", len(failures), int64(len(failures))+reads, failures[0])
	}
	if reads == 0 {
		t.Error("no read completed during the saves")
	}
	if m, err := ReadManifest(dir); err != nil || m.Step != 60 {
		t.Errorf("after the saves: step %d, %v", m.Step, err)
	}
}

// Without an atomic exchange (other platforms, some file systems) Save
// takes two renames; readers retry across the gap and still never fail.
func TestConcurrentReadersWithoutExchange(t *testing.T) {
	swap = func(a, b string) error { return errNoExchange }
	defer func() { swap = exchange }()
	dir := filepath.Join(t.TempDir(), "checkpoint")
	failures, reads := concurrentReads(t, dir, 40)
	if len(failures) > 0 {
		t.Errorf("%d of %d reads failed during saves; first: %s", len(failures), int64(len(failures))+reads, failures[0])
	}
}

func TestRollback(t *testing.T) {
	for _, name := range []string{"exchange", "renames"} {
		t.Run(name, func(t *testing.T) {
			if name == "renames" {
				swap = func(a, b string) error { return errNoExchange }
				defer func() { swap = exchange }()
			}
			root := t.TempDir()
			dir := filepath.Join(root, "checkpoint")
			for step := int64(1); step <= 3; step++ {
				if err := Save(dir, stepState(step)); err != nil {
					t.Fatal(err)
				}
			}
			m, ok, err := Rollback(dir)
			if err != nil || !ok || m.Step != 2 {
				t.Fatalf("Rollback: step %d, %v, %v; want step 2, true", m.Step, ok, err)
			}
			if got, err := ReadManifest(dir); err != nil || got.Step != 2 {
				t.Fatalf("after Rollback the checkpoint is at step %d (%v), want 2", got.Step, err)
			}
			if _, err := Previous(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Rollback a previous checkpoint remains: %v", err)
			}
			// No previous one left: the checkpoint goes.
			if _, ok, err := Rollback(dir); ok || err != nil {
				t.Fatalf("second Rollback: %v, %v; want false, nil", ok, err)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Errorf("after rolling back the only checkpoint the folder holds %v, want nothing", ents)
			}
		})
	}
}

func TestClean(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "checkpoint")
	for step := int64(1); step <= 2; step++ {
		if err := Save(dir, stepState(step)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{".checkpoint.tmp-1", ".checkpoint.old-2", ".other.tmp-3", "keep"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := Clean(dir)
	if err != nil || len(removed) != 2 {
		t.Fatalf("Clean removed %v (%v), want the two leftovers", removed, err)
	}
	var names []string
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[.checkpoint.prev .other.tmp-3 checkpoint keep]" {
		t.Errorf("after Clean: %v", names)
	}

	// With the checkpoint missing, Clean first puts back the complete one
	// waiting beside it.
	if err := os.Rename(dir, filepath.Join(root, ".checkpoint.old-9")); err != nil {
		t.Fatal(err)
	}
	if _, err := Clean(dir); err != nil {
		t.Fatal(err)
	}
	if m, err := ReadManifest(dir); err != nil || m.Step != 2 {
		t.Errorf("Clean did not recover the checkpoint: step %d, %v", m.Step, err)
	}
}

// A file that vanished from the directory a read had opened means that
// directory was replaced and then removed as the previous checkpoint; the
// inode number it freed may already be the new checkpoint's, so the read
// is retried even when the identities match (CI once saw a reader give up
// here: "openat manifest.json: no such file or directory"). A checkpoint
// that is merely damaged still fails after the retries.
func TestReadRetriesWhenItsDirectoryVanished(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoint")
	if err := Save(dir, stepState(1)); err != nil {
		t.Fatal(err)
	}
	id, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !replacedDuringRead(dir, &readError{dir: dir, id: id, msg: "gone", gone: true}) {
		t.Error("a vanished file in a directory whose identity matches the current one is not retried")
	}
	if replacedDuringRead(dir, &readError{dir: dir, id: id, msg: "bad checksum"}) {
		t.Error("a damaged file in the current directory is retried")
	}
	if err := os.Remove(filepath.Join(dir, WeightsFile)); err != nil {
		t.Fatal(err)
	}
	_, _, err = readOnce(dir, false)
	var re *readError
	if !errors.As(err, &re) || !re.gone {
		t.Fatalf("read without %s: %v, want a readError marked gone", WeightsFile, err)
	}
	if _, err := ReadManifest(dir); !errors.Is(err, ErrIncomplete) {
		t.Errorf("ReadManifest of a checkpoint missing its weights: %v, want ErrIncomplete after the retries", err)
	}
}
