package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genopt/gen/dist"
	"github.com/genopt/gen/train"
)

func cmdTrain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen train", flag.ContinueOnError)
	var cfg train.Config
	configFlags(fs, &cfg)
	out := fs.String("out", "", "run directory (default runs/YYYYMMDD-HHMMSS)")
	resume := fs.String("resume", "", "continue the run in this directory from its checkpoint; accepts --epochs/--steps (the new length in all), --threads, --checkpoint-every, --data-dir, --json, --quiet and refuses flags that would change the run")
	overwrite := fs.Bool("overwrite", false, "let --out replace the run it holds (a gen run directory only: one with config.json)")
	asJSON := fs.Bool("json", false, "print the final summary as one JSON object on stdout")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen train [flags]\n\nTrains a model with a learning rate chosen by GeN (or a schedule), writing metrics,\ncharts and a checkpoint into a run directory. With no flags: MNIST, MLP 784-256-10 (ReLU),\nAdam directions, approximate GeN with fresh probes and the Mean estimator\n(--lr gen --estimator mean), 3 epochs of batch 128, seed 1.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	setHidden(fs, &cfg)
	if *overwrite && *resume != "" {
		return fmt.Errorf("train: --overwrite starts a run afresh and --resume continues one; give one of them")
	}
	hooks, done := progress(*quiet || *asJSON)
	var sum *train.Summary
	var err error
	if *resume != "" {
		var opt train.ResumeOptions
		if opt, err = resumeOptions(fs, *resume, &cfg); err != nil {
			done()
			return err
		}
		sum, err = train.ResumeWith(ctx, *resume, opt, hooks)
	} else {
		dir := *out
		if dir == "" {
			dir = filepath.Join("runs", time.Now().Format("20060102-150405"))
		}
		sum, err = train.Start(ctx, cfg, dir, train.Options{Overwrite: *overwrite}, hooks)
	}
	done()
	if err = endDist(err); err != nil {
		if errors.Is(err, train.ErrInterrupted) && *asJSON && sum != nil && dist.WorldRank() == 0 {
			// The summary of the steps done, marked "interrupted": true;
			// the exit status (130, 143) says the run did not finish.
			if jerr := json.NewEncoder(os.Stdout).Encode(sum); jerr != nil {
				return jerr
			}
		}
		return err
	}
	if dist.WorldRank() != 0 {
		return nil // rank 0 reports for all
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(sum)
	}
	fmt.Printf("steps %d (%.2f epochs) in %.1f s, rule %s\n", sum.Steps, sum.Epochs, sum.WallSeconds, sum.Rule)
	fmt.Printf("train loss %.4f   test loss %.4f", float64(sum.TrainLoss), float64(sum.TestLoss))
	if sum.TestAccuracy != nil {
		fmt.Printf("   test accuracy %.2f %%", 100**sum.TestAccuracy)
	}
	fmt.Printf("\nfinal lr %.4g, from an estimate on %.1f %% of steps, fallbacks %d, passes: %d forward, %d line replay, %d backward, %d jet\n", sum.FinalLR, 100*sum.Estimated, sum.Fallbacks, sum.Forwards, sum.Replays, sum.Backwards, sum.Jets)
	for _, s := range sum.Samples {
		fmt.Println("sample:", s)
	}
	fmt.Println("run directory:", sum.RunDir)
	return nil
}

// progress returns hooks that drive a progress bar on stderr, and a
// function that closes it.
func progress(off bool) (train.Hooks, func()) {
	if off {
		return train.Hooks{}, func() {}
	}
	var bar *progressbar.ProgressBar
	var last train.StepRecord
	totalSteps := 0
	silent := false
	hooks := train.Hooks{
		Start: func(total, from int) {
			if silent = dist.WorldRank() != 0; silent {
				return // rank 0 shows the progress of all
			}
			totalSteps = total
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription("train"),
				progressbar.OptionShowCount(),
				progressbar.OptionSetItsString("steps"),
				progressbar.OptionShowIts(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(24),
				progressbar.OptionClearOnFinish(),
			)
			_ = bar.Set(from)
		},
		Step: func(s train.StepRecord) {
			if silent {
				return
			}
			last = s
			bar.Describe(fmt.Sprintf("epoch %.2f loss %.4f lr %.3g", s.Epoch, s.Loss, s.LR))
			_ = bar.Add(1)
		},
		Epoch: func(e train.EpochRecord) {
			if silent {
				return
			}
			// At most about ten epoch lines: every k-th epoch and the last.
			if perEpoch := float64(e.Step) / e.Epoch; perEpoch > 0 && totalSteps > 0 {
				epochs := float64(totalSteps) / perEpoch
				k := max(1, int(math.Ceil(epochs/10)))
				if int(math.Round(e.Epoch))%k != 0 && e.Step != totalSteps {
					return
				}
			}
			msg := fmt.Sprintf("epoch %.2f: step %d, train loss %.4f, test loss %.4f", e.Epoch, e.Step, last.Loss, float64(e.TestLoss))
			if e.TestAccuracy != nil {
				msg += fmt.Sprintf(", test accuracy %.2f %%", 100**e.TestAccuracy)
			}
			_ = bar.Clear()
			fmt.Fprintln(os.Stderr, msg)
		},
	}
	return hooks, func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
}

// endDist ends MPI when this process used it (--dist mpi). A rank whose run
// failed prints its error and aborts the whole job, so that no other rank
// waits for it; MPI_Abort does not return.
func endDist(err error) error {
	if !dist.Active() {
		return err
	}
	if err != nil && !errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(os.Stderr, "gen: rank %d: %v\n", dist.WorldRank(), err)
		_ = dist.Finalize(true)
	}
	return errors.Join(err, dist.Finalize(false))
}

func cmdPlot(args []string) error {
	fs := flag.NewFlagSet("gen plot", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen plot RUN_DIR\n\nRedraws loss, learning-rate and accuracy charts (PNG and SVG) from the run's metrics files.\n")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	charts, err := train.PlotCharts(fs.Arg(0))
	if err != nil {
		return err
	}
	for _, p := range charts.Written {
		fmt.Println("wrote", p)
	}
	for _, s := range charts.Skipped {
		msg := fmt.Sprintf("gen plot: %s chart not drawn: %s", s.Name, s.Why)
		if len(s.Removed) > 0 {
			msg += fmt.Sprintf("; removed the stale %s", strings.Join(s.Removed, ", "))
		}
		fmt.Fprintln(os.Stderr, msg)
	}
	return nil
}
