package kernel

import "math"

// Max32 returns max_j x_j in float32: −Inf for an empty x, NaN if any
// element is NaN (as the max builtin). Of +0 and −0, when both are the
// largest, either may be returned. On amd64 with AVX-512 the elements are
// compared 16 at a time; the result is otherwise the pure-Go loop's.
func Max32(x []float32) float32 {
	if m, ok := maxAsm32(x); ok {
		return m
	}
	return maxGo(x)
}

// maxGo is Max32's pure-Go loop, four running maxima.
func maxGo(x []float32) float32 {
	inf := float32(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	j := 0
	for ; j+4 <= len(x); j += 4 {
		m0 = max(m0, x[j])
		m1 = max(m1, x[j+1])
		m2 = max(m2, x[j+2])
		m3 = max(m3, x[j+3])
	}
	for ; j < len(x); j++ {
		m0 = max(m0, x[j])
	}
	return max(max(m0, m1), max(m2, m3))
}
