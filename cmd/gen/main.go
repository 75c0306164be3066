// Command gen trains neural networks with learning rates chosen by the
// generalized Newton's method (GeN), and inspects the line GeN looks at.
//
//	gen train [flags]        train (default: MNIST, MLP 784-256-10, Adam, approximate GeN)
//	gen probe [flags]        the loss along one update direction, with GeN's estimates
//	gen plot RUN_DIR         redraw a run's charts from its metrics
//	gen sample RUN_DIR       generate text from a gpt run's checkpoint
//	gen compare [flags]      the evidence suite: GeN against tuned schedules and the peers
//
// Every subcommand takes --help. The command is a thin client of the
// library: it parses flags into train.Config and calls package train.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/genopt/gen/train"
)

const usage = `gen — learning-rate-free training with the generalized Newton's method

Usage:
  gen train [flags]     train a model (no flags: MNIST, MLP 784-256-10, Adam, approximate GeN)
  gen probe [flags]     evaluate the loss along one update direction and GeN's learning rates
  gen plot RUN_DIR      redraw the charts of a run from its metrics files
  gen sample RUN_DIR    generate text from a gpt run (--prompt, --tokens, --temperature, --seed)
  gen compare [flags]   run the comparison suite and write its report (docs/results)

Run "gen COMMAND --help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line args and returns the exit status.
func run(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	// SIGINT and SIGTERM cancel the context; the command stops at its next
	// safe point (train: after writing the checkpoint) and the exit status
	// says which signal stopped it, as a shell's does: 128 + its number.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var caught atomic.Int32
	go func() {
		if s, ok := (<-sigs).(syscall.Signal); ok {
			caught.Store(int32(s))
		}
		cancel()
	}()
	var err error
	switch args[0] {
	case "train":
		err = cmdTrain(ctx, args[1:])
	case "probe":
		err = cmdProbe(ctx, args[1:])
	case "plot":
		err = cmdPlot(args[1:])
	case "compare":
		err = cmdCompare(ctx, args[1:])
	case "sample":
		err = cmdSample(args[1:])
	default:
		fmt.Fprintf(os.Stderr, "gen: unknown command %q; valid: train, probe, plot, sample, compare\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(os.Stderr, "gen:", err)
	if errors.Is(err, train.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return interruptedStatus(caught.Load())
	}
	return 1
}

// interruptedStatus is the exit status of a command stopped by the signal
// sig: 128 + its number (130 for SIGINT, 143 for SIGTERM), 130 when none
// was recorded.
func interruptedStatus(sig int32) int {
	if sig <= 0 {
		return 128 + int(syscall.SIGINT)
	}
	return 128 + int(sig)
}
