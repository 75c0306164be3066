package gen

import (
	"math"
	"math/rand/v2"
	"testing"
)

// At a stationary point of training, the expected one-step change of the
// loss is zero. On a quadratic f(θ − αu) = f(θ) − α·s + ½α²·c holds exactly
// (s = ∇f·u, c = uᵀHu), so E[s] = ½α·E[c]: the Mean estimator's target
// E[s]/E[c] is half the applied rate, whatever the direction rule (momentum,
// preconditioning), the curvatures or the noise. A greedy rule therefore
// halves the rate each time the loss reaches its noise floor: the mechanism
// of the short-horizon bias in docs/design-notes.md. Checked on a noisy
// quadratic with heavy-ball momentum and a diagonal preconditioner, probed on
// fresh noise's expectation.
func TestMeanAtStationarityIsHalfTheRate(t *testing.T) {
	const n = 8
	var h, p [n]float64
	for i := range h {
		h[i] = math.Pow(10, -1+2*float64(i)/(n-1)) // curvatures 0.1 … 10
		p[i] = 1 / math.Sqrt(h[i])                 // a fixed preconditioner
	}
	for _, tc := range []struct{ alpha, beta float64 }{
		{0.05, 0}, {0.05, 0.9}, {0.2, 0.9}, {0.02, 0.95},
	} {
		r := rand.New(rand.NewPCG(31, 31))
		var x, m [n]float64
		var mo moments
		for step := range 1_000_000 {
			var u [n]float64
			for i := range x {
				g := h[i]*x[i] + r.NormFloat64() // a batch's gradient
				m[i] = tc.beta*m[i] + (1-tc.beta)*g
				u[i] = p[i] * m[i]
			}
			if step >= 20_000 { // past the transient: probe the line
				// A fresh batch's slope is ∇f·u plus a noise term of mean 0
				// independent of u; its mean is taken here, to keep the
				// sampling error small.
				var s, c float64
				for i := range x {
					s += h[i] * x[i] * u[i]
					c += h[i] * u[i] * u[i]
				}
				mo.add(s, c, 1-1e-6)
			}
			for i := range x {
				x[i] -= tc.alpha * u[i]
			}
		}
		got, reason := mo.rate()
		if reason != OK || math.Abs(got/tc.alpha-0.5) > 0.01 {
			t.Errorf("α %v, β %v: Mean estimates %v (%v), %.3f× the applied rate, want 0.5×", tc.alpha, tc.beta, got, reason, got/tc.alpha)
		}
	}
}
