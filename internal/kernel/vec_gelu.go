package kernel

import "math"

// GELU32 writes GELU's value σ(x) = x·Φ(x), first derivative σ'(x) =
// Φ(x) + x·φ(x) and second derivative σ″(x) = φ(x)·(2 − x²) into f, d1
// and d2 for every element of x, in float32 (Φ and φ are the standard
// normal distribution and density; Hendrycks & Gimpel, arXiv:1606.08415).
// The four slices have the same length (it panics otherwise) and f, d1, d2
// must not overlap x.
//
// Φ comes from erfc by Abramowitz & Stegun, "Handbook of Mathematical
// Functions", formula 7.1.26 (|error| ≤ 1.5e-7 on erf, so ≤ 7.5e-8 on Φ),
// which shares its exponential e^{−x²/2} with φ. The exponential is
// computed in float32: Cody–Waite reduction by ln 2 split in two parts and
// a Taylor polynomial of degree 7 on |r| ≤ ln 2/2 (truncation below 6e-9
// relative). With float32 rounding Φ is within about 3e-7 of the exact
// value, σ within 3e-7·|x|. Inputs are clamped to |x| ≤ 16 for φ, where
// e^{−x²/2} is below float32's smallest normal number and taken as 0.
//
// On amd64 with AVX2 the elements are computed eight at a time by
// assembly that performs the pure-Go loop's operations in the same order
// without fused multiply-adds, so the results are the same bits at
// GOAMD64=v1 (see TestGELU32Twin).
func GELU32(f, d1, d2, x []float32) {
	checkLen("GELU32", len(x), len(f))
	checkLen("GELU32", len(x), len(d1))
	checkLen("GELU32", len(x), len(d2))
	done := gelu32(f, d1, d2, x)
	geluGo(f[done:], d1[done:], d2[done:], x[done:])
}

// The constants of GELU32, rounded to float32. The assembly reads them in
// this order from geluTable (eight copies each, one 32-byte row per
// constant): keep geluConsts, the row offsets in vec_gelu_amd64.s and
// geluGo in step.
const (
	geluClamp    = 16                       // |x| bound for the exponential's argument
	geluExpMin   = -87                      // below this e^y is taken as 0 (e^−87 ≈ 1.6e-38)
	geluLog2E    = math.Log2E               // 1/ln 2
	geluLn2Hi    = 0.693359375              // ln 2 rounded to 9 bits: n·geluLn2Hi is exact for |n| < 2¹⁵
	geluLn2Lo    = -2.121944400546905827e-4 // ln 2 − geluLn2Hi
	geluErfP     = 0.3275911 / math.Sqrt2   // A&S 7.1.26's p, for the argument |x|/√2
	geluA1       = 0.254829592              // A&S 7.1.26's a₁ … a₅
	geluA2       = -0.284496736
	geluA3       = 1.421413741
	geluA4       = -1.453152027
	geluA5       = 1.061405429
	geluInvSqrt2 = 0.3989422804014327 // 1/√(2π)
)

// geluConsts lists the constants in the table's row order.
var geluConsts = [...]float32{
	geluClamp, -geluClamp, -0.5, geluExpMin, geluLog2E, geluLn2Hi, geluLn2Lo,
	1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1,
	geluErfP, geluA5, geluA4, geluA3, geluA2, geluA1, geluInvSqrt2, 2,
}

// geluTable holds each of geluConsts in eight lanes, for the assembly.
var geluTable [len(geluConsts)][8]float32

func init() {
	for i, c := range geluConsts {
		for j := range geluTable[i] {
			geluTable[i][j] = c
		}
	}
}

// geluGo is GELU32's pure-Go loop, the reference the assembly follows step
// by step. Each product is converted to float32 before it is added so that
// no compiler fuses it into a multiply-add (the assembly has none).
func geluGo(f, d1, d2, x []float32) {
	f, d1, d2 = f[:len(x)], d1[:len(x)], d2[:len(x)]
	for i, v := range x {
		xc := clamp32(v, -geluClamp, geluClamp)
		z := xc * xc
		y := z * -0.5
		e := expNeg32(y)
		// erfc(|x|/√2) = t·(a₁ + t·(a₂ + … + t·a₅))·e^{−x²/2}, t = 1/(1 + p|x|/√2).
		t := 1 / (float32(abs32(xc)*geluErfP) + 1)
		q := float32(t*geluA5) + geluA4
		q = float32(q*t) + geluA3
		q = float32(q*t) + geluA2
		q = float32(q*t) + geluA1
		q *= t
		h := float32(q*e) * 0.5 // Φ(−|x|)
		cdf := 1 - h
		if math.Signbit(float64(v)) {
			cdf = h
		}
		phi := e * geluInvSqrt2
		f[i] = v * cdf
		d1[i] = cdf + float32(xc*phi)
		d2[i] = (2 - z) * phi
	}
}

// expNeg32 returns e^y in float32 for y ≤ 0, the exponential of GELU32 and
// ExpScaled32, operation by operation as the assembly computes it: below
// geluExpMin (and for NaN) the result is 0; otherwise y = n·ln 2 + r with n
// = round(y/ln 2) and r computed with ln 2 in two parts (Cody–Waite), e^r
// from its Taylor polynomial of degree 7 (|r| ≤ ln 2/2: truncation below
// 6e-9 relative) and 2ⁿ put into the exponent bits.
func expNeg32(y float32) float32 {
	keep := y >= geluExpMin
	y = max32(y, geluExpMin)
	n := float32(math.RoundToEven(float64(float32(y * geluLog2E))))
	r := y - float32(n*geluLn2Hi)
	r -= float32(n * geluLn2Lo)
	p := float32(r*(1.0/5040)) + 1.0/720
	p = float32(p*r) + 1.0/120
	p = float32(p*r) + 1.0/24
	p = float32(p*r) + 1.0/6
	p = float32(p*r) + 0.5
	p = float32(p*r) + 1
	p = float32(p*r) + 1
	if !keep {
		return 0
	}
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// ExpScaled32 writes e^{scale·x_i − shift} into dst for every element of x
// (same length, else it panics), for arguments ≤ 0: softmax's exponentials
// with shift the row's largest scale·x_i. The product scale·x_i is rounded
// to float32 before shift is subtracted, so with shift = max_i scale·x_i
// (computed in float32) every argument is ≤ 0 exactly. Arguments below −87
// (and NaN) give 0; otherwise the relative error is a few float32 ulps (see
// expNeg32). On amd64 with AVX2 the elements are computed eight at a time,
// with the same bits as the pure-Go loop.
func ExpScaled32(dst, x []float32, scale, shift float32) {
	checkLen("ExpScaled32", len(x), len(dst))
	done := expScaled32(dst, x, scale, shift)
	expScaledGo(dst[done:], x[done:], scale, shift)
}

// expScaledGo is ExpScaled32's pure-Go loop.
func expScaledGo(dst, x []float32, scale, shift float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = expNeg32(float32(scale*v) - shift)
	}
}

// clamp32 returns min(max(v, lo), hi) as the assembly's VMAXPS then VMINPS
// do (a NaN becomes lo).
func clamp32(v, lo, hi float32) float32 {
	if !(v >= lo) {
		v = lo
	}
	if v > hi {
		v = hi
	}
	return v
}

// max32 returns max(y, lo) as VMAXPS does for numbers.
func max32(y, lo float32) float32 {
	if y > lo {
		return y
	}
	return lo
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// MulAdd32 computes dst ← dst + a⊙b elementwise in float32, each product
// rounded before the sum (no fused multiply-add): the reverse rule of an
// elementwise map whose derivative is a. The three slices have the same
// length (it panics otherwise). On amd64 with AVX2 or AVX-512 the
// elements are computed 8 or 16 at a time, with the same bits as the
// pure-Go loop.
func MulAdd32(dst, a, b []float32) {
	checkLen("MulAdd32", len(a), len(dst))
	checkLen("MulAdd32", len(a), len(b))
	done := mulAdd32(dst, a, b)
	mulAddGo(dst[done:], a[done:], b[done:])
}

// mulAddGo is MulAdd32's pure-Go loop.
func mulAddGo(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] += float32(v * b[i])
	}
}

// Mul32 computes dst ← a⊙b elementwise in float32: the reverse rule of an
// elementwise map whose derivative is a, into a gradient that holds
// nothing yet (MulAdd32 without reading dst). The three slices have the
// same length (it panics otherwise). On amd64 with AVX2 or AVX-512 the
// elements are computed 8 or 16 at a time, with the same bits as the
// pure-Go loop.
func Mul32(dst, a, b []float32) {
	checkLen("Mul32", len(a), len(dst))
	checkLen("Mul32", len(a), len(b))
	done := mul32(dst, a, b)
	mulGo(dst[done:], a[done:], b[done:])
}

// mulGo is Mul32's pure-Go loop.
func mulGo(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}
