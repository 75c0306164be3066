//go:build amd64 && !purego

package kernel

// The AVX-512 kernels of vec_layernorm_amd64.s: n elements, n a positive
// multiple of 16.

//go:noescape
func lnRowAVX512(n int, o, x, gain, b *float32, m, r float32)

//go:noescape
func lnGradRowAVX512(n int, xg, gg, bg, x, gy, gain *float32, c *[4]float32)

// lnRow32 runs the kernel on the longest prefix of whole blocks of 16 and
// returns its length (0 without AVX-512), leaving the tail to lnRowGo.
func lnRow32(o, x, g, b []float32, m, r float32) int {
	n := len(x) &^ 15
	if n == 0 || !geluHasAVX512 {
		return 0
	}
	o, g, b = o[:n], g[:n], b[:n]
	lnRowAVX512(n, &o[0], &x[0], &g[0], &b[0], m, r)
	return n
}

// lnGradRow32 runs the kernel like lnRow32, leaving the tail to
// lnGradRowGo.
func lnGradRow32(xg, gg, bg, x, gy, g []float32, c *[4]float32) int {
	n := len(x) &^ 15
	if n == 0 || !geluHasAVX512 {
		return 0
	}
	xg, gg, bg, gy, g = xg[:n], gg[:n], bg[:n], gy[:n], g[:n]
	lnGradRowAVX512(n, &xg[0], &gg[0], &bg[0], &x[0], &gy[0], &g[0], c)
	return n
}
