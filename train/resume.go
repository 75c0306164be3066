package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/data"
	"github.com/genopt/gen/internal/runlock"
	"github.com/genopt/gen/optim"
)

// ResumeOptions are the settings a continued run may change: its length,
// and settings that do not change what it computes. The zero value changes
// nothing. Everything else (data, model, optimizer, rule, seed, batch,
// precision, …) belongs to the run: a different value would make another
// run, not a continuation of this one.
type ResumeOptions struct {
	// Epochs, when positive, sets the run's length to this many epochs in
	// all, counted from its start (not added); it replaces a length in
	// steps unless Steps is given too.
	Epochs int
	// Steps, when positive, sets the run's length to this many steps in all.
	Steps int
	// Threads, when positive, sets the GEMM thread count. A resumed run is
	// bit for bit the uninterrupted one only with the same count.
	Threads int
	// CheckpointEvery, when not nil, sets the checkpoint period in steps
	// (0: at the end of each epoch only).
	CheckpointEvery *int
	// DataDir, when not empty, is where the MNIST files are now.
	DataDir string
	// Report, when not nil, receives one line for every setting changed,
	// with its old value, before training continues.
	Report func(string)
}

// ResumeWith continues the run in dir from its checkpoint, with the
// configuration the run was started with (RunConfig) changed as opt says.
// The changed configuration is written to config.json and the checkpoint
// at the next checkpoint. A length shorter than the steps already taken is
// an error.
func ResumeWith(ctx context.Context, dir string, opt ResumeOptions, hooks Hooks) (*Summary, error) {
	// The ranks of a --dist run, from config.json's settings (missing or
	// unreadable: one process; runConfig below says what is wrong).
	var head Config
	_ = checkpoint.ReadJSON(filepath.Join(dir, "config.json"), &head)
	comm, err := openComm(head.Defaults())
	if err != nil {
		return nil, err
	}
	// Rank 0 owns the directory: it locks it, puts back a checkpoint that
	// a crash inside a replacement left beside its place, and removes the
	// rest of what interrupted saves left.
	if comm.Rank() == 0 {
		var lock *runlock.Lock
		if lock, err = lockRun(dir); err == nil {
			defer lock.Release()
			if err = cleanLeftovers(dir); err != nil {
				err = fmt.Errorf("train: --resume %s: %w", dir, err)
			}
		}
	}
	if err == nil {
		err = hasCheckpoint(dir)
	}
	if err := agree(comm, err); err != nil {
		return nil, err
	}
	cfg, missing, err := runConfig(dir)
	if err != nil {
		return nil, err
	}
	if missing && comm.Rank() == 0 {
		if err := checkpoint.WriteJSON(filepath.Join(dir, "config.json"), cfg); err != nil {
			return nil, fmt.Errorf("train: --resume %s: config.json is missing and cannot be rewritten from the checkpoint: %w", dir, err)
		}
	}
	notes, err := opt.apply(&cfg)
	if err != nil {
		return nil, fmt.Errorf("train: --resume %s: %w", dir, err)
	}
	// Validate reads a defaulted Config: a setting added after the run was
	// started (absent from its config.json) takes its default, which is
	// what the run did before the setting existed.
	if err := cfg.Defaults().Validate(); err != nil {
		return nil, fmt.Errorf("train: --resume %s: %w", dir, err)
	}
	if opt.Report != nil {
		for _, n := range notes {
			opt.Report(n)
		}
	}
	return dispatch(ctx, cfg, dir, true, false, hooks)
}

// hasCheckpoint says why dir holds no checkpoint to resume from, if it
// does not.
func hasCheckpoint(dir string) error {
	_, err := checkpoint.ReadManifest(checkpointDir(dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("train: --resume %s: the run holds no checkpoint (it stopped before writing one); start it again with gen train --overwrite --out %s and its flags", dir, dir)
	case err != nil:
		return fmt.Errorf("train: --resume %s: no usable checkpoint: %w", dir, err)
	}
	return nil
}

// apply changes c as o says and describes each change.
func (o ResumeOptions) apply(c *Config) ([]string, error) {
	if o.Epochs < 0 || o.Steps < 0 || o.Threads < 0 || o.CheckpointEvery != nil && *o.CheckpointEvery < 0 {
		return nil, fmt.Errorf("--epochs, --steps, --threads and --checkpoint-every must not be negative")
	}
	var notes []string
	length := func(c Config) string {
		if c.Steps > 0 {
			return fmt.Sprintf("%d steps", c.Steps)
		}
		return fmt.Sprintf("%d epochs", c.Epochs)
	}
	old := *c
	if o.Epochs > 0 {
		c.Epochs, c.Steps = o.Epochs, 0
	}
	if o.Steps > 0 {
		c.Steps = o.Steps
	}
	if length(*c) != length(old) {
		n := fmt.Sprintf("length: %s in all (was %s)", length(*c), length(old))
		if lengthDependent(c.LR) || c.Horizon != "none" {
			n += fmt.Sprintf("; the schedule (--lr %s, --horizon %s) is stretched to the new length, so the rates from here on differ from the original plan", c.LR, c.Horizon)
		}
		notes = append(notes, n)
	}
	if o.Threads > 0 && o.Threads != c.Threads {
		was := "the kernel's default"
		if c.Threads > 0 {
			was = fmt.Sprint(c.Threads)
		}
		c.Threads = o.Threads
		notes = append(notes, fmt.Sprintf("threads: %d (was %s); the continuation is bit for bit the uninterrupted run only with the same count", c.Threads, was))
	}
	if o.CheckpointEvery != nil && *o.CheckpointEvery != c.CheckpointEvery {
		notes = append(notes, fmt.Sprintf("checkpoint every %d steps (was %d; 0: at epoch ends only)", *o.CheckpointEvery, c.CheckpointEvery))
		c.CheckpointEvery = *o.CheckpointEvery
	}
	if o.DataDir != "" && o.DataDir != c.DataDir {
		notes = append(notes, fmt.Sprintf("MNIST files from %s (was %q)", o.DataDir, c.DataDir))
		c.DataDir = o.DataDir
	}
	return notes, nil
}

// lengthDependent reports whether lr names a schedule whose rates depend
// on the run's length (cosine, linear, step).
func lengthDependent(lr string) bool {
	name, _, _ := strings.Cut(lr, ":")
	return slices.Contains([]string{"cosine", "linear", "step"}, name)
}

// RunConfig returns the configuration of the run in dir: its config.json,
// which must equal the copy the last checkpoint's manifest holds (a
// config.json edited by hand is refused, naming every field that differs)
// and pass Validate. Without config.json it returns the checkpoint's copy
// (ResumeWith then writes config.json back). It only reads.
func RunConfig(dir string) (Config, error) {
	cfg, _, err := runConfig(dir)
	return cfg, err
}

// runConfig implements RunConfig and reports whether config.json was
// missing.
func runConfig(dir string) (cfg Config, missing bool, err error) {
	fail := func(format string, a ...any) (Config, bool, error) {
		return Config{}, false, fmt.Errorf("train: --resume %s: %s", dir, fmt.Sprintf(format, a...))
	}
	m, err := checkpoint.ReadManifest(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return fail("no usable checkpoint: %v", err)
	}
	if m.Config == nil {
		return fail("the checkpoint's manifest holds no configuration; it was not written by gen train")
	}
	var saved Config
	if err := strictJSON(m.Config, &saved); err != nil {
		return fail("the configuration in %s: %v", filepath.Join(dir, "checkpoint", checkpoint.ManifestFile), err)
	}
	err = checkpoint.ReadJSON(filepath.Join(dir, "config.json"), &cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cfg, missing = saved, true
	case err != nil:
		return fail("%v", err)
	}
	if diff := configDiff(cfg, saved); len(diff) > 0 {
		return fail("config.json differs from the configuration the checkpoint was trained with (in %s): %s. "+
			"config.json was edited by hand, or a crash cut its update short. A run cannot change these settings: "+
			"restore config.json (or delete it: --resume rewrites it from the checkpoint), change the length with --steps or --epochs, "+
			"or start a new run with --out",
			filepath.Join(dir, "checkpoint", checkpoint.ManifestFile), strings.Join(diff, "; "))
	}
	if err := cfg.Defaults().Validate(); err != nil {
		return fail("config.json: %v", err)
	}
	return cfg, missing, nil
}

// strictJSON decodes b into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON document at byte %d", dec.InputOffset())
	}
	return nil
}

// configDiff lists the JSON fields in which a and b differ, as
// "name: A (config.json) against B (checkpoint)".
func configDiff(a, b Config) []string {
	fields := func(c Config) map[string]any {
		m := map[string]any{}
		js, _ := json.Marshal(c) // a Config always marshals
		json.Unmarshal(js, &m)
		return m
	}
	fa, fb := fields(a), fields(b)
	var names []string
	for k := range fa {
		names = append(names, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var diff []string
	for _, k := range names {
		if !reflect.DeepEqual(fa[k], fb[k]) {
			show := func(v any) string {
				if v == nil {
					return "(absent)"
				}
				js, _ := json.Marshal(v)
				return string(js)
			}
			diff = append(diff, fmt.Sprintf("%s: %s in config.json, %s in the checkpoint", k, show(fa[k]), show(fb[k])))
		}
	}
	return diff
}

// checkRestored checks every value a checkpoint gave the loop and the
// optimizer before training goes on from them: the step against the
// manifest's, the optimizer's and the run's length; the counters, time and
// rate against their ranges; the data position against the step; the
// optimizer's numbers for finiteness. Its error names the value, the valid
// range and what to do.
func checkRestored(st trainerState, manifestStep int64, opt optim.State, total, perEpoch, batch int, dir string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("train: --resume: checkpoint %s: %s; the checkpoint is corrupted: restore it from a copy, or start a new run", dir, fmt.Sprintf(format, a...))
	}
	switch {
	case st.Step < 0:
		return bad("the trainer's step is %d, negative", st.Step)
	case int64(st.Step) != manifestStep:
		return bad("the trainer's step is %d, the manifest records %d", st.Step, manifestStep)
	case opt.Step != int64(st.Step):
		return bad("the optimizer has taken %d steps, the trainer %d", opt.Step, st.Step)
	case st.Step > total:
		return fmt.Errorf("train: --resume: the checkpoint is at step %d, past the run's length of %d steps: give a length of at least %d steps (--steps %d, or more --epochs)", st.Step, total, st.Step, st.Step)
	}
	for name, v := range map[string]int{"forwards": st.Forwards, "replays": st.Replays, "backwards": st.Backwards, "jets": st.Jets, "fallbacks": st.Fallbacks} {
		if v < 0 {
			return bad("the trainer's count of %s is %d, negative", name, v)
		}
	}
	if st.Fallbacks > st.Step {
		return bad("%d fallbacks in %d steps", st.Fallbacks, st.Step)
	}
	if math.IsNaN(st.Seconds) || math.IsInf(st.Seconds, 0) || st.Seconds < 0 {
		return bad("the trainer's time is %g s, want a finite number ≥ 0", st.Seconds)
	}
	if math.IsNaN(st.LR) || math.IsInf(st.LR, 0) || st.LR < 0 {
		return bad("the last learning rate is %g, want a finite number ≥ 0", st.LR)
	}
	if want := (data.Position{Epoch: st.Step / perEpoch, Index: st.Step % perEpoch * batch}); st.Position != want {
		return bad("the data position is epoch %d, index %d; after %d steps of %d batches an epoch it is epoch %d, index %d",
			st.Position.Epoch, st.Position.Index, st.Step, perEpoch, want.Epoch, want.Index)
	}
	for name, v := range opt.Scalars {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("the optimizer's %s is %g", name, v)
		}
	}
	for name, bufs := range opt.Buffers {
		for i, b := range bufs {
			for j, v := range b {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return bad("the optimizer's %s of parameter %d holds %g at %d", name, i, v, j)
				}
			}
		}
	}
	return nil
}
