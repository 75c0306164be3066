package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genopt/gen/compare"
)

func cmdCompare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen compare", flag.ContinueOnError)
	suite := fs.String("suite", "quick", "suite: quick (4 tasks, short runs, ~10 min on 2 cores), full (5 tasks, ~80 min, then the GPT, ~1 h more), gpt (the GPT alone: AdamW grid and schedules, GeN, peers; ~1 h), tiny (seconds; for tests)")
	out := fs.String("out", filepath.Join("docs", "results"), "directory of the report (README.md, fig/, runs.csv, curves.csv)")
	work := fs.String("work", "", "directory of the individual runs, reused to continue an interrupted suite (default runs/compare-SUITE)")
	notes := fs.String("notes", "", "Markdown file placed at the top of the report (default OUT/notes.md if it exists)")
	fromJSON := fs.Bool("report-only", false, "redraw the report from WORK/results.json without training")
	redraw := fs.Bool("redraw", false, "redraw only the figures of OUT from its runs.csv and curves.csv (the stored curves; no training, no results.json needed)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen compare [flags]\n\nRuns a suite of tasks × methods × seeds — GeN (exact and approximate, on SGD and Adam), a\n7-rate constant grid for SGD and Adam, cosine decay from the best rate, D-Adaptation, Prodigy,\nDoG, SPS and SLS — and writes a Markdown report with tables, PNG charts and the raw metrics.\nEvery row of the report names the `gen train` command that reproduces it.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("compare: unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	if *redraw {
		files, err := compare.Redraw(*out)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Println("wrote", f)
		}
		return nil
	}
	s, err := compare.ByName(*suite)
	if err != nil {
		return err
	}
	if *notes == "" {
		if _, err := os.Stat(filepath.Join(*out, "notes.md")); err == nil {
			*notes = filepath.Join(*out, "notes.md")
		}
	}
	var text []byte
	if *notes != "" {
		if text, err = os.ReadFile(*notes); err != nil {
			return fmt.Errorf("compare: --notes: %w", err)
		}
	}
	if *work == "" {
		*work = filepath.Join("runs", "compare-"+s.Name)
	}
	resPath := filepath.Join(*work, "results.json")
	var res *compare.Results
	if *fromJSON {
		if res, err = compare.Load(resPath); err != nil {
			return err
		}
	} else {
		res, err = compare.Run(ctx, s, compare.Options{WorkDir: *work, Log: os.Stderr})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("compare: interrupted; finished runs are kept in %s, run the same command to continue", *work)
			}
			return err
		}
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		if err := res.Save(resPath); err != nil {
			return err
		}
	}
	if err := compare.Report(*out, res, compare.ReportOptions{Notes: string(text), Command: "gen compare --suite " + s.Name}); err != nil {
		return err
	}
	fmt.Printf("report: %s (%d runs, %.0f s)\n", filepath.Join(*out, "README.md"), len(res.Runs), res.Seconds)
	return nil
}
