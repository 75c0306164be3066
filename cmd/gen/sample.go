package main

import (
	"flag"
	"fmt"

	"github.com/genopt/gen/train"
)

func cmdSample(args []string) error {
	fs := flag.NewFlagSet("gen sample", flag.ContinueOnError)
	var opts train.SampleOptions
	fs.StringVar(&opts.Prompt, "prompt", "", `text to continue (default a newline, as nanoGPT)`)
	fs.IntVar(&opts.Tokens, "tokens", 500, "number of characters to generate")
	temp := fs.Float64("temperature", 1, "divide the logits by this before sampling (0: always the most likely character)")
	fs.Uint64Var(&opts.Seed, "seed", 1, "random seed: the same seed gives the same text")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen sample RUN_DIR [flags]\n\nGenerates text from the last checkpoint of a gpt run (gen train --data text --model gpt),\ncaching keys and values so that generation is linear in its length.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// The run directory may come before or after the flags.
	var dir string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		dir, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if dir == "" && fs.NArg() == 1 {
		dir = fs.Arg(0)
	} else if fs.NArg() > 0 || dir == "" {
		fs.Usage()
		return errUsage
	}
	opts.Temperature, opts.TemperatureSet = *temp, true
	text, err := train.Sample(dir, opts)
	if err != nil {
		return err
	}
	fmt.Println(text)
	return nil
}
