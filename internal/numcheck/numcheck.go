// Package numcheck holds the finite-difference oracles the tests of this
// project check derivatives against. Everything is float64.
//
// The second-derivative oracle uses central differences with Richardson
// extrapolation: with D(h) = (g(h) − 2g(0) + g(−h))/h², the combination
// (4·D(h/2) − D(h))/3 cancels the h² error term, leaving O(h⁴) truncation
// and O(ε/h²) rounding (Burden & Faires, "Numerical Analysis", §4.2).
package numcheck

import "math"

// Gradient returns the central-difference gradient of f at x,
//
//	∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (2h),
//
// perturbing x in place and restoring each element bit-for-bit.
func Gradient(f func() float64, x []float64, h float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f()
		x[i] = old - h
		fm := f()
		x[i] = old
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// FirstDerivative returns g'(0) by Richardson-extrapolated central
// differences with step h.
func FirstDerivative(g func(float64) float64, h float64) float64 {
	d := func(h float64) float64 { return (g(h) - g(-h)) / (2 * h) }
	return (4*d(h/2) - d(h)) / 3
}

// SecondDerivative returns g″(0) by Richardson-extrapolated central second
// differences with step h.
func SecondDerivative(g func(float64) float64, h float64) float64 {
	g0 := g(0)
	d := func(h float64) float64 { return (g(h) - 2*g0 + g(-h)) / (h * h) }
	return (4*d(h/2) - d(h)) / 3
}

// RelErr returns ‖got − want‖ / max(‖want‖, floor): the norm-wise relative
// error, with floor guarding against division by a zero reference.
func RelErr(got, want []float64, floor float64) float64 {
	var num, den float64
	for i := range got {
		d := got[i] - want[i]
		num += d * d
		den += want[i] * want[i]
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), floor)
}

// Rel returns |got − want| / max(|want|, floor).
func Rel(got, want, floor float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), floor)
}
