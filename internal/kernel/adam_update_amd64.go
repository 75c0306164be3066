//go:build amd64 && !purego

package kernel

//go:noescape
func adamUpdateAVX512(n int, m, v, grad, theta *float32, k *adamCoeffs[float32], alpha float32)

// adamUpdate32 runs adamUpdateAVX512 on the longest prefix of whole
// 16-lane vectors when the CPU has AVX-512 and returns its length; 0
// otherwise (AdamUpdate then goes block by block through adam32 and
// axpy32).
func adamUpdate32(m, v, g, theta []float32, k *adamCoeffs[float32], alpha float32) int {
	if vecBest == nil || !vecBest.avx512 {
		return 0
	}
	return vecAVX512.adamUpdate32(m, v, g, theta, k, alpha)
}

// adamUpdate32 runs the fused kernel of this set on the longest prefix of
// whole vectors and returns its length; the AVX2 set has none (0).
func (im *vecImpl) adamUpdate32(m, v, g, theta []float32, k *adamCoeffs[float32], alpha float32) int {
	if !im.avx512 {
		return 0
	}
	n := len(theta) &^ (im.lanes - 1)
	if n > 0 {
		m, v, g = m[:n], v[:n], g[:n]
		adamUpdateAVX512(n, &m[0], &v[0], &g[0], &theta[0], k, alpha)
	}
	return n
}
