package gen

import "fmt"

// Grid returns n ≥ 2 evenly spaced values from a to b inclusive.
func Grid(a, b float64, n int) []float64 {
	if n < 2 {
		panic(fmt.Sprintf("gen: Grid needs n ≥ 2, got %d", n))
	}
	g := make([]float64, n)
	for i := range g {
		g[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return g
}

// Sweep evaluates the true line loss g(α) at each α: the loss-per-learning-
// rate curve of the source text's author (one forward pass per point).
func Sweep(line Line, alphas []float64) []float64 {
	out := make([]float64, len(alphas))
	for i, a := range alphas {
		out[i] = line.At(a)
	}
	return out
}

// Parabola evaluates the second-order model of the line,
//
//	q(α) = g(0) − α·(∇f·u) + ½α²·(uᵀHu),
//
// at each α; its minimum is α* = (∇f·u)/(uᵀHu).
func Parabola(g0, slope, curvature float64, alphas []float64) []float64 {
	out := make([]float64, len(alphas))
	for i, a := range alphas {
		out[i] = g0 - a*slope + 0.5*a*a*curvature
	}
	return out
}
