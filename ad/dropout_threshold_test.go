package ad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDropThreshold: the integer test of Dropout's draws agrees with
// Rand.Float64() < p draw by draw, on random draws and on the draws next
// to the threshold, where a rounding slip would show.
func TestDropThreshold(t *testing.T) {
	for _, p := range []float64{0, 0.25, 0.5, 0.1, 1.0 / 3, 0.999999, math.Nextafter(1, 0)} {
		thr := dropThreshold(p)
		a, b := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
		for i := range 10000 {
			if got, want := b.Uint64()&(1<<53-1) < thr, a.Float64() < p; got != want {
				t.Fatalf("p = %v, draw %d: integer test %v, Float64() < p %v", p, i, got, want)
			}
		}
		for _, v := range []uint64{thr - 1, thr, thr + 1} {
			if v >= 1<<53 {
				continue
			}
			f := float64(v) / (1 << 53) // what Float64 returns for this draw
			if got, want := v < thr, f < p; got != want {
				t.Errorf("p = %v, v = %d: integer test %v, Float64() < p %v", p, v, got, want)
			}
		}
	}
}
