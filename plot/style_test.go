package plot

import (
	"math"
	"strings"
	"testing"
)

// TestRoundTicks checks the labelled ticks of a linear axis against lists
// written by hand: multiples of 1, 2 or 5 × 10^k, never a step such as 120.
func TestRoundTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 300, "0 50 100 150 200 250 300"},
		{40, 280, "50 100 150 200 250"},
		{0, 640, "0 100 200 300 400 500 600"},
		{0, 1, "0 0.2 0.4 0.6 0.8 1"},
		{-1, 1, "-1 -0.5 0 0.5 1"},
		{0.0012, 0.0031, "0.0015 0.002 0.0025 0.003"},
		{97, 98.3, "97 97.2 97.4 97.6 97.8 98 98.2"},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (roundTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Value < tc.lo-1e-12 || tk.Value > tc.hi+1e-12 {
				t.Errorf("Ticks(%v, %v): tick %v out of range", tc.lo, tc.hi, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Ticks(%v, %v) labels = %q, want %q", tc.lo, tc.hi, strings.Join(got, " "), tc.want)
		}
	}
}

// TestPaletteIsDistinct requires the 15 colours to stay apart: no two
// closer than 75 in RGB (Tableau's blue and cyan are 76 apart; the
// comparison figures once had two reds 20 apart).
func TestPaletteIsDistinct(t *testing.T) {
	if len(palette) < 15 {
		t.Fatalf("%d colours; the comparison figures draw up to 15 methods", len(palette))
	}
	for i, a := range palette {
		for _, b := range palette[i+1:] {
			d := math.Sqrt(sq(float64(a.R)-float64(b.R)) + sq(float64(a.G)-float64(b.G)) + sq(float64(a.B)-float64(b.B)))
			if d < 75 {
				t.Errorf("colours %v and %v are %.0f apart", a, b, d)
			}
		}
	}
}

func sq(x float64) float64 { return x * x }
