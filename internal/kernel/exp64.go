package kernel

import "math"

// Exp64 writes dst[i] = math.Exp(x[i]) for every i, bit for bit; dst and x
// have one length and may be the same slice.
//
// On amd64 with AVX-512, math.Exp runs the assembly of the Go runtime's
// math package (archExp, the fused multiply-add path: Shibata's reduction
// x = k·ln2 + r, r/16 through a degree-8 Taylor polynomial, squared back
// four times; N. Shibata, "Efficient evaluation methods of elementary
// functions suitable for SIMD computation", ISC 2010). exp64AVX512 runs the
// same operations in the same order on eight lanes, for arguments in
// [−708, 709] where that path needs no special case; blocks with another
// argument (NaN, ±Inf, results that are subnormal, zero or infinite), the
// tail, and every element elsewhere go through math.Exp.
func Exp64(dst, x []float64) {
	checkLen("Exp64", len(dst), len(x))
	done := 0
	for done < len(x) {
		done += exp64(dst[done:], x[done:])
		if done == len(x) {
			return
		}
		// A block the kernel stopped at (or the tail): eight elements by
		// math.Exp, then the kernel again.
		end := min(done+8, len(x))
		for i := done; i < end; i++ {
			dst[i] = math.Exp(x[i])
		}
		done = end
	}
}

// expConsts are the constants of exp64AVX512 in the order it loads them:
// the runtime's (math/exp_amd64.s) log₂e, ln2 in two parts, 1/16, the
// Taylor coefficients 1/8! … 1/3!, ½, 1, 2, then the kernel's own range
// [−708, 709] and the exponent bias 1023 (as an integer's bits).
var expConsts = [16]float64{
	1.4426950408889634073599246810018920,                  // log₂e
	0.69314718055966295651160180568695068359375,           // ln2, upper part
	0.28235290563031577122588448175013436025525412068e-12, // ln2, lower part
	0.0625,
	2.4801587301587301587e-5, // 1/8!
	1.9841269841269841270e-4, // 1/7!
	1.3888888888888888889e-3, // 1/6!
	8.3333333333333333333e-3, // 1/5!
	4.1666666666666666667e-2, // 1/4!
	1.6666666666666666667e-1, // 1/3!
	0.5,
	1.0,
	2.0,
	-708,
	709,
	math.Float64frombits(1023),
}
