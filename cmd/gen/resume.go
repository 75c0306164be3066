package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/genopt/gen/train"
)

// continuing lists the flags of gen train that --resume accepts: the
// run's length and settings that do not change what it computes (besides
// --resume, --out naming the same directory, --json and --quiet).
var continuing = []string{"epochs", "steps", "threads", "checkpoint-every", "data-dir"}

// resumeOptions turns the flags given beside --resume DIR into the changes
// train.ResumeWith applies. A flag that would make another run (--seed,
// --lr, --data, …) with a value other than the run's is refused, all of
// them in one error that names the run's values; one equal to the run's
// value is accepted, as it changes nothing.
func resumeOptions(fs *flag.FlagSet, dir string, given *train.Config) (train.ResumeOptions, error) {
	opt := train.ResumeOptions{Report: func(s string) { fmt.Fprintf(os.Stderr, "gen: --resume %s: %s\n", dir, s) }}
	var names []string
	fs.Visit(func(f *flag.Flag) { names = append(names, f.Name) })
	var run *train.Config
	var conflicts []string
	for _, name := range names {
		switch name {
		case "resume", "json", "quiet":
			continue
		case "epochs":
			opt.Epochs = given.Epochs
			continue
		case "steps":
			opt.Steps = given.Steps
			continue
		case "threads":
			opt.Threads = given.Threads
			continue
		case "checkpoint-every":
			opt.CheckpointEvery = &given.CheckpointEvery
			continue
		case "data-dir":
			opt.DataDir = given.DataDir
			continue
		case "out":
			if out := fs.Lookup("out").Value.String(); filepath.Clean(out) != filepath.Clean(dir) {
				conflicts = append(conflicts, fmt.Sprintf("--out %s (a resumed run stays in its directory, %s)", out, dir))
			}
			continue
		}
		if run == nil {
			c, err := train.RunConfig(dir)
			if err != nil {
				return opt, err
			}
			run = &c
		}
		// Apply the one flag to the run's configuration; it conflicts if the
		// result (defaults filled in) is another configuration.
		var c train.Config
		probe := flag.NewFlagSet("", flag.ContinueOnError)
		configFlags(probe, &c)
		c = *run
		f := probe.Lookup(name)
		if f == nil { // a flag of gen train outside Config: none today
			conflicts = append(conflicts, "--"+name)
			continue
		}
		was := f.Value.String()
		value := fs.Lookup(name).Value.String()
		if err := f.Value.Set(value); err != nil {
			return opt, fmt.Errorf("train: --%s %s: %w", name, value, err)
		}
		if !reflect.DeepEqual(c.Defaults(), run.Defaults()) {
			if was == "" {
				was = "its default"
			}
			conflicts = append(conflicts, fmt.Sprintf("--%s %s (the run has %s)", name, value, was))
		}
	}
	if len(conflicts) > 0 {
		return opt, fmt.Errorf("train: --resume %s continues the run as it was configured, and these flags would change it: %s. "+
			"Drop them, or start a new run with --out. --resume accepts --%s (--epochs and --steps give the new length in all), --json and --quiet",
			dir, strings.Join(conflicts, "; "), strings.Join(continuing, ", --"))
	}
	return opt, nil
}
