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
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genopt/gen/train"
)

func cmdTrain(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen train", flag.ContinueOnError)
	var cfg train.Config
	configFlags(fs, &cfg)
	out := fs.String("out", "", "run directory (default runs/YYYYMMDD-HHMMSS)")
	resume := fs.String("resume", "", "continue the run in this directory from its checkpoint")
	overwrite := fs.Bool("overwrite", false, "let --out replace the run it holds (a gen run directory only: one with config.json)")
	asJSON := fs.Bool("json", false, "print the final summary as one JSON object on stdout")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen train [flags]\n\nTrains a model with a learning rate chosen by GeN (or a schedule), writing metrics,\ncharts and a checkpoint into a run directory. With no flags: MNIST, MLP 784-256-10 (ReLU),\nAdam directions, approximate GeN with fresh probes inside the trust-ratio test\n(--lr gen-trust:2), 3 epochs of batch 128, seed 1.\n\nFlags:\n")
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
		sum, err = train.Resume(ctx, *resume, hooks)
	} else {
		dir := *out
		if dir == "" {
			dir = filepath.Join("runs", time.Now().Format("20060102-150405"))
		}
		sum, err = train.Start(ctx, cfg, dir, train.Options{Overwrite: *overwrite}, hooks)
	}
	done()
	if err != nil {
		if errors.Is(err, train.ErrInterrupted) && *asJSON && sum != nil {
			// The summary of the steps done, marked "interrupted": true;
			// the exit status (130, 143) says the run did not finish.
			if jerr := json.NewEncoder(os.Stdout).Encode(sum); jerr != nil {
				return jerr
			}
		}
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(sum)
	}
	fmt.Printf("steps %d (%.2f epochs) in %.1f s, rule %s\n", sum.Steps, sum.Epochs, sum.WallSeconds, sum.Rule)
	fmt.Printf("train loss %.4f   test loss %.4f", float64(sum.TrainLoss), float64(sum.TestLoss))
	if sum.TestAccuracy != nil {
		fmt.Printf("   test accuracy %.2f %%", 100**sum.TestAccuracy)
	}
	fmt.Printf("\nfinal lr %.4g, fallbacks %d, passes: %d forward, %d line replay, %d backward, %d jet\n", sum.FinalLR, sum.Fallbacks, sum.Forwards, sum.Replays, sum.Backwards, sum.Jets)
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
	hooks := train.Hooks{
		Start: func(total, from int) {
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
			last = s
			bar.Describe(fmt.Sprintf("epoch %.2f loss %.4f lr %.3g", s.Epoch, s.Loss, s.LR))
			_ = bar.Add(1)
		},
		Epoch: func(e train.EpochRecord) {
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
	if err := train.Plot(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Println("charts written to", fs.Arg(0))
	return nil
}
