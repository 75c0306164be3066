package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/internal/runlock"
)

// Options are the choices of Start beyond the run's configuration; the
// zero value is Run's behaviour.
type Options struct {
	// Overwrite lets a new run replace the run already in the directory
	// (one holding config.json): its files are deleted once the new run's
	// data and model are ready. A directory that is not a run is never
	// overwritten.
	Overwrite bool
}

// checkpointDir is the checkpoint folder of the run directory dir.
func checkpointDir(dir string) string { return filepath.Join(dir, "checkpoint") }

// checkOut returns an error unless a new run may be written into dir: dir
// is absent or empty, or holds a run of this program and overwrite is set.
// Anything else — files gen did not write, a checkpoint/ folder without a
// run's config.json — is refused: a run never writes over a user's files.
func checkOut(dir string, overwrite bool) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: --out %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("train: --out %s is a file, not a directory; choose a new or empty directory", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("train: --out %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != runlock.FileName {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		shown := names
		if len(shown) > 5 {
			shown = append(shown[:5:5], "…")
		}
		return fmt.Errorf("train: --out %s is not empty (%s) and is not a gen run directory (it has no config.json); "+
			"choose a new or empty directory: gen does not write over files it did not make", dir, strings.Join(shown, ", "))
	}
	if overwrite {
		return nil
	}
	return fmt.Errorf("train: %s already holds a run; continue it with --resume %s, start it again with --overwrite (deletes its files), or choose another --out", dir, dir)
}

// clearRun deletes the files of the run in dir, except the lock its
// caller holds: what --overwrite does once the new run is ready.
func clearRun(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("train: --overwrite %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name() == runlock.FileName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("train: --overwrite %s: %w", dir, err)
		}
	}
	return nil
}

// lockRun takes the run directory dir for this process.
func lockRun(dir string) (*runlock.Lock, error) {
	l, err := runlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return l, nil
}

// cleanLeftovers removes what interrupted checkpoint saves left in the run
// directory dir (after putting a complete checkpoint back where one went
// missing); the caller holds the run's lock.
func cleanLeftovers(dir string) error {
	if _, err := checkpoint.Clean(checkpointDir(dir)); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
