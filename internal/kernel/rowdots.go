package kernel

import "math"

// RowDots32 computes C = A·Bᵀ (+ C) for a product with few rows and
// columns and long rows, k ≫ m, n (the weight gradient of a convolution
// with few channels: m = C·KH·KW taps, n = OC channels, k = the output
// positions of one image):
//
//	c[i·ldc + j] = Σ_{t<k} a[i·lda + t]·b[j·ldb + t]   (+ c[i·ldc + j] when acc)
//
// for i < m, j < n. The packed GEMM would pad such a product to its
// register tile (a 9×8 product computed as 12×16: 2.7× the work) and
// pack both operands; here each pair of rows of A meets eight rows of B
// at a time, read in place, with the sums in registers.
//
// With AVX-512 each sum runs in 16 float32 lanes of fused multiply-adds,
// term t in lane t mod 16, and the lanes are combined pairwise at the end
// (lane l + lane l+8, then l+4, l+2, l+1; rowDotsGo is the reference). A
// result depends only on the row pair, so it does not change with the
// thread count or the blocking. Elsewhere the product is GemmOneThread's
// (the same sums to rounding). It panics if a matrix does not fit its
// slice.
func RowDots32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	checkRowsFit("RowDots32", "a", m, k, lda, len(a))
	checkRowsFit("RowDots32", "b", n, k, ldb, len(b))
	checkRowsFit("RowDots32", "c", m, n, ldc, len(c))
	if !reluHasAVX512 || k == 0 {
		GemmOneThread(false, true, m, n, k, 1, a, lda, b, ldb, b2f32(acc), c, ldc)
		return
	}
	var rows [8]*float32
	var out [16]float32
	for j0 := 0; j0 < n; j0 += 8 {
		nb := min(8, n-j0)
		for r := range rows {
			rows[r] = &b[(j0+min(r, nb-1))*ldb] // past n: the last row again
		}
		for i := 0; i < m; i += 2 {
			i1 := min(i+1, m-1) // an odd last row: itself again
			rowDotsAVX512(k, &a[i*lda], &a[i1*lda], &rows, &out)
			for r := range min(2, m-i) {
				cr := c[(i+r)*ldc+j0:][:nb]
				for j := range cr {
					if acc {
						cr[j] += out[r*8+j]
					} else {
						cr[j] = out[r*8+j]
					}
				}
			}
		}
	}
}

func b2f32(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// rowDotsGo is the reference of the AVX-512 path of RowDots32 (always the
// 16-lane sums, whatever the CPU), for tests: float32 fused multiply-adds
// (math.FMA of float32 operands and accumulator, rounded to float32: the
// product is exact in float64, so this is the float32 FMA except when the
// float64 rounding of the sum lands on a float32 tie, which the tests
// allow for), then the lanes combined pairwise.
func rowDotsGo(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, acc bool) {
	for i := range m {
		for j := range n {
			var lanes [16]float32
			ar, br := a[i*lda:][:k], b[j*ldb:][:k]
			for t, v := range ar {
				lanes[t%16] = float32(math.FMA(float64(v), float64(br[t]), float64(lanes[t%16])))
			}
			for step := 8; step >= 1; step /= 2 {
				for l := range step {
					lanes[l] += lanes[l+step]
				}
			}
			if acc {
				c[i*ldc+j] += lanes[0]
			} else {
				c[i*ldc+j] = lanes[0]
			}
		}
	}
}
