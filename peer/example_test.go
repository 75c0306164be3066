package peer_test

import (
	"fmt"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/peer"
)

// line is g(α) = f(θ − α·∇f) for f(θ) = ½(θ₁² + 4θ₂²) at θ = (1, 1):
// ∇f = (1, 4), so g(α) = ½(1 − α)² + 2(1 − 4α)², g(0) = 2.5, g'(0) = −17.
type line struct{}

func (line) At(a float64) float64 { return 0.5*(1-a)*(1-a) + 2*(1-4*a)*(1-4*a) }
func (line) Jet(ad.Curvature) (float64, float64, float64) {
	return 2.5, -17, 33
}

// The Polyak step is 2.5/(0.5·17) = 5/17; the Armijo search from 1 stops at
// the first 0.9^k with g(0.9^k) ≤ 2.5 − 0.1·0.9^k·17.
func Example() {
	sps := peer.NewSPS(peer.SPSConfig{})
	sls := peer.NewSLS(peer.SLSConfig{})
	fmt.Printf("SPS α = %.4f\n", sps.Next(0, line{}).LR)
	d := sls.Next(0, line{})
	fmt.Printf("SLS α = %.4f after %d trials\n", d.LR, sls.Trials)
	// Output:
	// SPS α = 0.2941
	// SLS α = 0.4305 after 9 trials
}
