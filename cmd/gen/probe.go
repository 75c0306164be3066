package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/genopt/gen/train"
)

func cmdProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gen probe", flag.ContinueOnError)
	var cfg train.Config
	configFlags(fs, &cfg)
	cfg.Probe = "same"
	fs.Lookup("probe").DefValue = "same"
	var opts train.ProbeOptions
	fs.StringVar(&opts.Alphas, "alphas", "", "grid of learning rates FROM:TO:N (default 0 to 3·α*, 41 points)")
	fs.StringVar(&opts.Checkpoint, "checkpoint", "", "probe at the weights of this checkpoint (or run directory)")
	fs.StringVar(&opts.Out, "out", "", "directory for probe.csv, probe.png and probe.svg (default runs/probe-YYYYMMDD-HHMMSS)")
	asJSON := fs.Bool("json", false, "print the result as one JSON object on stdout")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gen probe [flags]\n\nTakes one batch, computes the optimizer's direction u at the initial (or --checkpoint)\nweights, and evaluates the loss along g(α) = f(θ − α·u) on a grid, beside GeN's second-order\nmodel: the exact α* = (∇f·u)/(uᵀHu), the three-point estimate, and for a single-layer model\nwith a piecewise-linear output and --loss half-sq the source text's closed form and the\ninterval on which the loss is exactly quadratic. The line is on the direction's own batch\nunless --probe says otherwise. Writes probe.csv and the probe figure.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("probe: unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	setHidden(fs, &cfg)
	if opts.Out == "" {
		// A fresh folder under runs/, as gen train's: never the source tree's
		// probe/ package when run from the repository root.
		opts.Out = filepath.Join("runs", "probe-"+time.Now().Format("20060102-150405"))
	}
	res, err := train.ProbeContext(ctx, cfg, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("batch %s: g(0) = %.6g, ∇f·u = %.6g, uᵀHu = %.6g, uᵀGu = %.6g\n", res.Batch, res.Loss, res.Slope, res.Curvature, res.GaussNewton)
	fmt.Printf("α* exact %.6g, three-point %.6g, best on the grid %.6g\n", float64(res.AlphaExact), float64(res.AlphaApprox), res.AlphaBest)
	if res.AlphaClosedForm != nil {
		fmt.Printf("single-layer closed form %.6g, exact on α ∈ [0, %.6g)\n", float64(*res.AlphaClosedForm), float64(*res.ValidityInterval))
	}
	for _, f := range res.Files {
		fmt.Println("wrote", f)
	}
	return nil
}
