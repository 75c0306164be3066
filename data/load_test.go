package data

import (
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		spec           string
		train, test    int
		classification bool
	}{
		{"synthetic", 1000, 200, false},
		{"teacher", 1000, 200, false},
		{"csv:testdata/small.csv", 8, 2, true},
		{"text", 0, 0, true}, // sizes depend on the Go installation's copy
	}
	for _, tc := range tests {
		sp, err := Load(tc.spec, Options{})
		if err != nil {
			if tc.spec == "text" && strings.Contains(err.Error(), "cannot find the default corpus") {
				continue
			}
			t.Fatalf("Load(%q): %v", tc.spec, err)
		}
		if tc.train > 0 && (sp.Train.Len() != tc.train || sp.Test.Len() != tc.test) {
			t.Errorf("Load(%q): %d/%d examples, want %d/%d", tc.spec, sp.Train.Len(), sp.Test.Len(), tc.train, tc.test)
		}
		if sp.Train.Classification() != tc.classification {
			t.Errorf("Load(%q): classification %v, want %v", tc.spec, sp.Train.Classification(), tc.classification)
		}
	}
	// The options of the selected source are used.
	sp, err := Load("synthetic", Options{Synthetic: SyntheticOptions{Samples: 10, Inputs: 3}})
	if err != nil || sp.Train.Len() != 10 || sp.Train.Features() != 3 {
		t.Errorf("Load(synthetic) with 10 samples of 3 inputs: %v, %v", sp.Train, err)
	}
	for _, spec := range []string{"", "cifar", "csv:", "csv", "mnist:x", "synthetic:3", "Text"} {
		_, err := Load(spec, Options{})
		if err == nil || !strings.Contains(err.Error(), "valid: mnist, csv:PATH, synthetic, teacher, text, text:PATH") {
			t.Errorf("Load(%q): error %v, want one listing the valid specs", spec, err)
		}
	}
	if _, err := Load("mnist", Options{MNIST: MNISTOptions{DataDir: t.TempDir()}}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Load(mnist) from an empty folder: error %v, want not found", err)
	}
}
