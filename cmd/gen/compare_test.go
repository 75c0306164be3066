package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/genopt/gen/compare"
	"github.com/genopt/gen/train"
)

// TestCompareCommandsParse checks that every command the quick suite's
// report prints parses back, through the flags of gen train, into the very
// configuration that ran.
func TestCompareCommandsParse(t *testing.T) {
	s := compare.Quick()
	methods := append(append(append(compare.GeNMethods(), compare.PeerMethods()...), compare.SensitivityMethods()...), compare.RemedyMethods()...)
	for _, task := range s.Tasks {
		for _, m := range methods {
			cfg := task.Base
			m.Set(&cfg)
			cfg.Seed = 2
			cmd := compare.Command(cfg)
			args := strings.Fields(strings.TrimPrefix(cmd, "gen train "))
			fs := flag.NewFlagSet("gen train", flag.ContinueOnError)
			var got train.Config
			configFlags(fs, &got)
			if err := fs.Parse(args); err != nil {
				t.Fatalf("%s / %s: %q does not parse: %v", task.Name, m.Name, cmd, err)
			}
			setHidden(fs, &got)
			if !reflect.DeepEqual(got.Defaults(), cfg.Defaults()) {
				t.Errorf("%s / %s: %q parses to\n%+v\nwant\n%+v", task.Name, m.Name, cmd, got.Defaults(), cfg.Defaults())
			}
		}
	}
}
