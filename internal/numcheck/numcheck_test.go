package numcheck

import (
	"math"
	"slices"
	"testing"
)

// Tolerances against closed forms. With step h the Richardson-extrapolated
// first difference has truncation error h⁴/480·|g⁽⁵⁾| and the second
// difference h⁴/1440·|g⁽⁶⁾| (the h² terms cancel), about 2e-11 and 7e-12
// for h = 1e-2 and |g⁽ᵏ⁾| ≤ 1 near 0; rounding adds about ε/h ≈ 2e-14 and
// ε/h² ≈ 2e-12 (ε = 2⁻⁵²). The tolerances leave a factor of ten or more.
const (
	tolFirst  = 1e-10
	tolSecond = 1e-9
	step      = 1e-2
)

func TestDerivativesClosedForms(t *testing.T) {
	quadratic := func(a float64) float64 { return 3 + 2*a - 5*a*a }
	tests := []struct {
		name   string
		g      func(float64) float64
		h      float64
		d1, d2 float64 // g'(0), g″(0)
		tol1   float64
		tol2   float64
	}{
		{"sin", math.Sin, step, 1, 0, tolFirst, tolSecond},
		{"exp", math.Exp, step, 1, 1, tolFirst, tolSecond},
		{"cos", math.Cos, step, 0, -1, tolFirst, tolSecond},
		// A quadratic has no h² or h⁴ error, and with the dyadic step 1/2
		// every intermediate value is a float64 number: the differences
		// are exact, so the tolerance is 0.
		{"3 + 2α − 5α²", quadratic, 0.5, 2, -10, 0, 0},
	}
	for _, tc := range tests {
		if got := FirstDerivative(tc.g, tc.h); math.Abs(got-tc.d1) > tc.tol1 {
			t.Errorf("FirstDerivative(%s, %g) = %v, want %v (tolerance %g)", tc.name, tc.h, got, tc.d1, tc.tol1)
		}
		if got := SecondDerivative(tc.g, tc.h); math.Abs(got-tc.d2) > tc.tol2 {
			t.Errorf("SecondDerivative(%s, %g) = %v, want %v (tolerance %g)", tc.name, tc.h, got, tc.d2, tc.tol2)
		}
	}
}

// TestRichardsonOrder checks that the extrapolation removes the h² term: for
// sin, the plain central difference (sin h − sin(−h))/2h misses 1 by
// h²/6 ≈ 1.7e-5 at h = 1e-2, while FirstDerivative must be within tolFirst.
func TestRichardsonOrder(t *testing.T) {
	plain := (math.Sin(step) - math.Sin(-step)) / (2 * step)
	got := FirstDerivative(math.Sin, step)
	if e := math.Abs(plain - 1); e < 1e-5 {
		t.Fatalf("the plain central difference is already within %g: the test cannot tell", e)
	}
	if e := math.Abs(got - 1); e > tolFirst {
		t.Errorf("FirstDerivative(sin, %g) = %v, error %g > %g: no better than the plain difference (error %g)", step, got, e, tolFirst, math.Abs(plain-1))
	}
}

func TestGradient(t *testing.T) {
	// f(x) = x0² + 3·x0·x1 − x2: ∇f = (2x0 + 3x1, 3x0, −1). Central
	// differences are exact for a quadratic, and with h = 1/2 and small
	// integers every value is a float64 number, so the result is exact.
	x := []float64{1, 2, -3}
	orig := slices.Clone(x)
	calls := 0
	f := func() float64 { calls++; return x[0]*x[0] + 3*x[0]*x[1] - x[2] }
	got := Gradient(f, x, 0.5)
	if want := []float64{8, 3, -1}; !slices.Equal(got, want) {
		t.Errorf("Gradient of x0² + 3x0x1 − x2 at %v = %v, want %v", orig, got, want)
	}
	if !slices.Equal(x, orig) {
		t.Errorf("Gradient left x = %v, want it restored to %v", x, orig)
	}
	if calls != 2*len(x) {
		t.Errorf("Gradient called f %d times, want 2 per coordinate = %d", calls, 2*len(x))
	}
	// Restoring by arithmetic would not give x back: 0.2 + 0.1 − 0.1 and
	// 0.3 + 0.1 − 0.1 are not 0.2 and 0.3 in float64. Gradient must restore
	// them bit for bit.
	y := []float64{0.2, 0.3}
	h := 0.1
	if y[0]+h-h == y[0] || y[1]+h-h == y[1] {
		t.Fatal("the increments round-trip: the test cannot see arithmetic restoration")
	}
	Gradient(func() float64 { return y[0] * y[1] }, y, h)
	if y[0] != 0.2 || y[1] != 0.3 {
		t.Errorf("Gradient left %v, want [0.2 0.3] bit for bit", y)
	}
}

func TestRelErr(t *testing.T) {
	tests := []struct {
		name             string
		got, want        []float64
		floor, wantError float64
	}{
		{"floor", []float64{3, 4}, []float64{0, 0}, 1, 5},                        // ‖(3, 4)‖ / max(0, 1)
		{"relative", []float64{1, 2}, []float64{3, 4}, 1e-300, math.Sqrt(8) / 5}, // ‖(−2, −2)‖ / ‖(3, 4)‖
		{"equal", []float64{1, -1}, []float64{1, -1}, 1, 0},
	}
	for _, tc := range tests {
		// One division and two square roots: a few ulps.
		if e := RelErr(tc.got, tc.want, tc.floor); math.Abs(e-tc.wantError) > 1e-15 {
			t.Errorf("%s: RelErr(%v, %v, %g) = %v, want %v", tc.name, tc.got, tc.want, tc.floor, e, tc.wantError)
		}
	}
	for _, tc := range []struct{ got, want, floor, rel float64 }{
		{1.5, 1, 1e-300, 0.5},
		{-3, -2, 1e-300, 0.5},
		{1e-9, 0, 1e-3, 1e-6}, // the floor replaces |want| = 0
	} {
		if e := Rel(tc.got, tc.want, tc.floor); math.Abs(e-tc.rel) > 1e-15*tc.rel {
			t.Errorf("Rel(%v, %v, %g) = %v, want %v", tc.got, tc.want, tc.floor, e, tc.rel)
		}
	}
}
