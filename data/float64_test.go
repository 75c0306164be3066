package data

import (
	"math"
	"strings"
	"testing"
)

// With Float64, ReadCSV keeps the file's values in float64 (standardised
// in float64, against a mean and deviation computed by hand), a float64
// batch takes them, and a float32 batch still takes X.
func TestCSVFloat64KeepsTheFilesValues(t *testing.T) {
	const file = "a,y\n0.1,1\n0.2,2\n0.4,3\n"
	for _, raw := range []bool{true, false} {
		sp, err := ReadCSV(strings.NewReader(file), "t.csv", CSVOptions{Regression: true, Float64: true, TestFraction: -1, Raw: raw})
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{0.1, 0.2, 0.4}
		if !raw {
			mean := (0.1 + 0.2 + 0.4) / 3
			sd := math.Sqrt(((0.1-mean)*(0.1-mean) + (0.2-mean)*(0.2-mean) + (0.4-mean)*(0.4-mean)) / 3)
			for i := range want {
				want[i] = (want[i] - mean) / sd
			}
		}
		var b64 Batch[float64]
		FillRange(&b64, sp.Train, 0, 3)
		var b32 Batch[float32]
		FillRange(&b32, sp.Train, 0, 3)
		for i, w := range want {
			if got := b64.X.Data()[i]; math.Abs(got-w) > 1e-15*math.Abs(w) {
				t.Errorf("raw %v: float64 batch x[%d] = %.17g, want %.17g", raw, i, got, w)
			}
			if got := b32.X.Data()[i]; got != sp.Train.X[i] {
				t.Errorf("raw %v: float32 batch x[%d] = %v, X holds %v", raw, i, got, sp.Train.X[i])
			}
		}
		if y := b64.Y.Data(); y[0] != 1 || y[1] != 2 || y[2] != 3 {
			t.Errorf("float64 targets %v", y)
		}
		if err := sp.Train.Validate(); err != nil {
			t.Error(err)
		}
	}
}
