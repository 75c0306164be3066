package kernel

// LayerNormRow32 writes one normalized row with its affine map,
//
//	o_j = g_j·((x_j − m)·r) + b_j,
//
// in float32, for LayerNorm's forward rule (m the row's mean and r its
// inverse standard deviation, rounded to float32). The five slices have
// the same length (it panics otherwise). On amd64 with AVX-512 the
// elements are computed 16 at a time with the same bits as the pure-Go
// loop (no fused multiply-add).
func LayerNormRow32(o, x, g, b []float32, m, r float32) {
	checkLen("LayerNormRow32", len(x), len(o))
	checkLen("LayerNormRow32", len(x), len(g))
	checkLen("LayerNormRow32", len(x), len(b))
	done := lnRow32(o, x, g, b, m, r)
	lnRowGo(o[done:], x[done:], g[done:], b[done:], m, r)
}

// lnRowGo is LayerNormRow32's pure-Go loop.
func lnRowGo(o, x, g, b []float32, m, r float32) {
	o, g, b = o[:len(x)], g[:len(x)], b[:len(x)]
	for j, v := range x {
		o[j] = float32(g[j]*float32((v-m)*r)) + b[j]
	}
}

// LayerNormGradRow32 adds one row's gradients of LayerNorm (see
// ad.LayerNorm's VJP) in float32: with x̂_j = (x_j − m)·r,
//
//	x̄_j += r·((ȳ_j·g_j − sh) − x̂_j·shx),   ḡ_j += ȳ_j·x̂_j,   b̄_j += ȳ_j
//
// where sh and shx are the row's mean(ȳ ⊙ g) and mean(ȳ ⊙ g ⊙ x̂). The
// six slices have the same length (it panics otherwise). On amd64 with
// AVX-512 the elements are computed 16 at a time with the same bits as the
// pure-Go loop (no fused multiply-add).
func LayerNormGradRow32(xg, gg, bg, x, gy, g []float32, m, r, sh, shx float32) {
	for _, n := range []int{len(xg), len(gg), len(bg), len(gy), len(g)} {
		checkLen("LayerNormGradRow32", len(x), n)
	}
	c := [4]float32{m, r, sh, shx}
	done := lnGradRow32(xg, gg, bg, x, gy, g, &c)
	lnGradRowGo(xg[done:], gg[done:], bg[done:], x[done:], gy[done:], g[done:], &c)
}

// lnGradRowGo is LayerNormGradRow32's pure-Go loop; c holds m, r, sh, shx.
func lnGradRowGo(xg, gg, bg, x, gy, g []float32, c *[4]float32) {
	m, r, sh, shx := c[0], c[1], c[2], c[3]
	n := len(x)
	xg, gg, bg, gy, g = xg[:n], gg[:n], bg[:n], gy[:n], g[:n]
	for j, v := range x {
		gj := gy[j]
		xh := (v - m) * r
		xg[j] += float32(r * ((gj*g[j] - sh) - float32(xh*shx)))
		gg[j] += float32(gj * xh)
		bg[j] += gj
	}
}
