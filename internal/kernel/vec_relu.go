package kernel

import "fmt"

// ReLU and its 2×2 max pooling on float32 matrices: the elementwise passes
// of a ReLU layer and of the fused convolution's epilogue (ad.Conv2DReLU),
// 16 elements at a time where AVX-512 runs (vec_relu_amd64.s), with the
// same bits as the pure-Go twins below, whose loops are the reference.
//
// Shapes: a rows×cols matrix m with leading dimension ld has element (r,
// j) at m[r·ld + j]; ld ≥ cols.

// ReLURows32 writes the rectified rows of src plus b into dst:
//
//	dst[r·ldd + j] = max(src[r·lds + j] + b, 0),   r < rows, j < cols
//
// with Go's max (max(−0, 0) = 0; a NaN stays NaN). dst may be src when
// ldd = lds. It panics if a matrix does not fit its slice.
func ReLURows32(rows, cols int, dst []float32, ldd int, src []float32, lds int, b float32) {
	if rows == 0 || cols == 0 {
		return
	}
	checkRowsFit("ReLURows32", "dst", rows, cols, ldd, len(dst))
	checkRowsFit("ReLURows32", "src", rows, cols, lds, len(src))
	if reluHasAVX512 {
		reluRowsAVX512(rows, cols, &dst[0], ldd, &src[0], lds, b)
		return
	}
	reluRowsGo(rows, cols, dst, ldd, src, lds, b)
}

// reluRowsGo is ReLURows32's reference loop.
func reluRowsGo(rows, cols int, dst []float32, ldd int, src []float32, lds int, b float32) {
	for r := range rows {
		d, s := dst[r*ldd:][:cols], src[r*lds:][:cols]
		for j, v := range s {
			d[j] = max(v+b, 0)
		}
	}
}

// ReLUGradRows32 writes (acc false) or adds (acc true) the gradient that
// passes a ReLU, g where the ReLU's output or input y is positive and 0
// elsewhere, into dst, and returns the sum of the terms:
//
//	t[r,j] = [y[r·ldy + j] > 0] · g[r·ldg + j]     (a product with 1 or 0)
//	dst[r·ldd + j] = t[r,j]   or   dst[r·ldd + j] += t[r,j]
//	returns Σ t[r,j], in float64
//
// A NaN y passes nothing; 0·g is −0 for negative g, as Activate's reverse
// rule gives. The sum runs in 16 float64 lanes, term (r, j) in lane j mod
// 16, combined pairwise at the end (lane i + lane i+8, then i+4, i+2,
// i+1): a fixed order, the same at any thread count. dst may be g when
// ldd = ldg. It panics if a matrix does not fit its slice.
func ReLUGradRows32(rows, cols int, dst []float32, ldd int, g []float32, ldg int, y []float32, ldy int, acc bool) float64 {
	if rows == 0 || cols == 0 {
		return 0
	}
	checkRowsFit("ReLUGradRows32", "dst", rows, cols, ldd, len(dst))
	checkRowsFit("ReLUGradRows32", "g", rows, cols, ldg, len(g))
	checkRowsFit("ReLUGradRows32", "y", rows, cols, ldy, len(y))
	if reluHasAVX512 {
		return reluGradRowsAVX512(rows, cols, &dst[0], ldd, &g[0], ldg, &y[0], ldy, acc)
	}
	return reluGradRowsGo(rows, cols, dst, ldd, g, ldg, y, ldy, acc)
}

// reluGradRowsGo is ReLUGradRows32's reference loop.
func reluGradRowsGo(rows, cols int, dst []float32, ldd int, g []float32, ldg int, y []float32, ldy int, acc bool) float64 {
	var lanes [16]float64
	for r := range rows {
		d, gr, yr := dst[r*ldd:][:cols], g[r*ldg:][:cols], y[r*ldy:][:cols]
		for j, v := range gr {
			t := reluStep(yr[j]) * v
			if acc {
				d[j] += t
			} else {
				d[j] = t
			}
			lanes[j%16] += float64(t)
		}
	}
	return sumLanes(&lanes)
}

// reluStep is 1 for y > 0, else 0 (also for NaN), looked up rather than
// branched on (the sign of random pre-activations mispredicts).
func reluStep(y float32) float32 {
	k := 0
	if y > 0 {
		k = 1
	}
	return [2]float32{0, 1}[k]
}

// sumLanes combines 16 lane sums pairwise: lane i + lane i+8, then i+4,
// i+2, i+1 (the reduction of the AVX-512 kernels).
func sumLanes(s *[16]float64) float64 {
	for step := 8; step >= 1; step /= 2 {
		for i := range step {
			s[i] += s[i+step]
		}
	}
	return s[0]
}

// Pool2x2ReLU32 max-pools, through ReLU, 2×2 windows of a convolution's
// product stored position by position (element (col, o) of channel o at
// src[col·oc + o], the layout of a transposed product, rows of the output
// map rs columns apart), with a bias per channel, for 16 channels from
// channel o0:
//
//	z(col, o) = src[col·oc + o] + bias[o]
//	c = 2·pi·rs + 2·pj          (the window's first column, pi < ph, pj < pw)
//	best = max(z(c), z(c+1), z(c+rs), z(c+rs+1))
//	dst[d·oc + o] = max(best, 0),  arg[d·oc + o] = the first of c, c+1,
//	c+rs, c+rs+1 where z = best   (d = pi·pw + pj; c+rs+1 if best is NaN)
//
// for o0 ≤ o < o0+16: dst and arg are position by position too (the
// caller transposes them). A NaN in a window gives a NaN maximum, as Go's
// max does; ±0 maxima give 0 after the ReLU. It panics if oc < o0+16 or a
// slice is too short.
func Pool2x2ReLU32(dst []float32, arg []int32, src, bias []float32, oc, o0, rs, ph, pw int) {
	if ph == 0 || pw == 0 {
		return
	}
	if o0 < 0 || oc < o0+16 || rs < 2*pw {
		panic(fmt.Sprintf("kernel: Pool2x2ReLU32: channels [%d, %d) of %d, rows %d apart for %d windows: want 16 channels inside oc and rs ≥ 2·pw", o0, o0+16, oc, rs, pw))
	}
	last := (ph*pw-1)*oc + o0 + 16
	if len(dst) < last || len(arg) < last || len(bias) < o0+16 || len(src) < ((2*ph-1)*rs+2*pw-1)*oc+o0+16 {
		panic(fmt.Sprintf("kernel: Pool2x2ReLU32: %d×%d windows of %d channels (rows %d apart) need len(dst), len(arg) ≥ %d, len(src) ≥ %d, len(bias) ≥ %d; have %d, %d, %d, %d",
			ph, pw, oc, rs, last, ((2*ph-1)*rs+2*pw-1)*oc+o0+16, o0+16, len(dst), len(arg), len(src), len(bias)))
	}
	if reluHasAVX512 {
		for pi := range ph {
			d := pi * pw * oc
			pool2x2ReLUAVX512(pw, &src[2*pi*rs*oc+o0], oc, rs, &bias[o0], int32(2*pi*rs), &dst[d+o0], &arg[d+o0])
		}
		return
	}
	pool2x2ReLUGo(dst, arg, src, bias, oc, o0, rs, ph, pw)
}

// pool2x2ReLUGo is Pool2x2ReLU32's reference loop.
func pool2x2ReLUGo(dst []float32, arg []int32, src, bias []float32, oc, o0, rs, ph, pw int) {
	for pi := range ph {
		for pj := range pw {
			c := 2*pi*rs + 2*pj
			d := (pi*pw + pj) * oc
			for o := o0; o < o0+16; o++ {
				za, zb := src[c*oc+o]+bias[o], src[(c+1)*oc+o]+bias[o]
				zc, zd := src[(c+rs)*oc+o]+bias[o], src[(c+rs+1)*oc+o]+bias[o]
				best, off := Max2x2(za, zb, zc, zd, rs)
				dst[d+o], arg[d+o] = max(best, 0), int32(c+off)
			}
		}
	}
}

// checkRowsFit panics unless a rows×cols matrix with leading dimension ld
// fits in n elements.
func checkRowsFit(op, name string, rows, cols, ld, n int) {
	if rows < 0 || cols < 0 || ld < cols || (rows-1)*ld+cols > n {
		panic(fmt.Sprintf("kernel: %s: %s is %d×%d with leading dimension %d: want ld ≥ cols and %d elements, have %d", op, name, rows, cols, ld, (rows-1)*ld+cols, n))
	}
}

// AddRows32 adds the vector v (cols elements) to every row of a:
//
//	dst[r·ldd + j] = a[r·lda + j] + v[j],   r < rows, j < cols
//
// (a bias added to each example's outputs), 16 elements at a time where
// AVX-512 runs, each sum the same single float32 addition as the Go loop.
// dst may be a when ldd = lda. It panics if a matrix does not fit its
// slice or v is shorter than cols.
func AddRows32(rows, cols int, dst []float32, ldd int, a []float32, lda int, v []float32) {
	if rows == 0 || cols == 0 {
		return
	}
	checkRowsFit("AddRows32", "dst", rows, cols, ldd, len(dst))
	checkRowsFit("AddRows32", "a", rows, cols, lda, len(a))
	checkRowsFit("AddRows32", "v", 1, cols, cols, len(v))
	if reluHasAVX512 {
		addRowsAVX512(rows, cols, &dst[0], ldd, &a[0], lda, &v[0])
		return
	}
	for r := range rows {
		d, s := dst[r*ldd:][:cols], a[r*lda:][:cols]
		for j, x := range s {
			d[j] = x + v[j]
		}
	}
}

// Unpool2x2ReLU32 is the reverse of Pool2x2ReLU32 for the same 16
// channels from o0: with the pooled outputs yv, their gradients gy and the
// argmax arg, all position by position (element (d, o) at d·oc + o), it
// writes the gradient of the product (column by column, element (col, o)
// at dst[col·oc + o], rows rs columns apart) on every column of every
// window, and adds each channel's terms to sums[o − o0] in float64:
//
//	t = [yv[d·oc + o] > 0]·gy[d·oc + o]          (d = pi·pw + pj)
//	dst[col·oc + o] = t where col = arg[d·oc + o], 0 at the window's other
//	columns (c, c+1, c+rs, c+rs+1 with c = 2·pi·rs + 2·pj)
//	sums[o − o0] += t, window after window in the order of d
//
// Columns in no window are not written. arg must hold one of its window's
// columns (as Pool2x2ReLU32 writes). It panics where Pool2x2ReLU32 would.
func Unpool2x2ReLU32(dst []float32, sums *[16]float64, gy, yv []float32, arg []int32, oc, o0, rs, ph, pw int) {
	if ph == 0 || pw == 0 {
		return
	}
	if o0 < 0 || oc < o0+16 || rs < 2*pw {
		panic(fmt.Sprintf("kernel: Unpool2x2ReLU32: channels [%d, %d) of %d, rows %d apart for %d windows: want 16 channels inside oc and rs ≥ 2·pw", o0, o0+16, oc, rs, pw))
	}
	last := (ph*pw-1)*oc + o0 + 16
	if len(gy) < last || len(yv) < last || len(arg) < last || len(dst) < ((2*ph-1)*rs+2*pw-1)*oc+o0+16 {
		panic(fmt.Sprintf("kernel: Unpool2x2ReLU32: %d×%d windows of %d channels (rows %d apart) need len(gy), len(yv), len(arg) ≥ %d, len(dst) ≥ %d; have %d, %d, %d, %d",
			ph, pw, oc, rs, last, ((2*ph-1)*rs+2*pw-1)*oc+o0+16, len(gy), len(yv), len(arg), len(dst)))
	}
	if reluHasAVX512 {
		for pi := range ph {
			d := pi * pw * oc
			unpool2x2AVX512(pw, &gy[d+o0], &yv[d+o0], &arg[d+o0], oc, rs, int32(2*pi*rs), &dst[2*pi*rs*oc+o0], sums)
		}
		return
	}
	unpool2x2ReLUGo(dst, sums, gy, yv, arg, oc, o0, rs, ph, pw)
}

// unpool2x2ReLUGo is Unpool2x2ReLU32's reference loop.
func unpool2x2ReLUGo(dst []float32, sums *[16]float64, gy, yv []float32, arg []int32, oc, o0, rs, ph, pw int) {
	for pi := range ph {
		for pj := range pw {
			c := 2*pi*rs + 2*pj
			d := (pi*pw + pj) * oc
			for o := o0; o < o0+16; o++ {
				t := reluStep(yv[d+o]) * gy[d+o]
				sums[o-o0] += float64(t)
				for _, col := range [4]int{c, c + 1, c + rs, c + rs + 1} {
					v := float32(0)
					if col == int(arg[d+o]) {
						v = t
					}
					dst[col*oc+o] = v
				}
			}
		}
	}
}

// Max2x2 returns the maximum of a 2×2 window (za zb on its first row, zc zd
// on its second, rows rs apart) and the offset of its first position that
// holds it (0, 1, rs or rs+1), found by independent comparisons from the
// last position to the first (no chain of dependent selects): the same
// maximum and argmax as a scan of the window in order, NaN aside. The fused
// pooling's Go loops (ad) and Pool2x2ReLU32's twin share it.
func Max2x2[T Float](za, zb, zc, zd T, rs int) (best T, off int) {
	best = max(max(za, zb), max(zc, zd))
	off = rs + 1
	if zc == best {
		off = rs
	}
	if zb == best {
		off = 1
	}
	if za == best {
		off = 0
	}
	return best, off
}
