package kernel

import "fmt"

// Float is the set of element types the kernels support.
type Float interface{ ~float32 | ~float64 }

// Gemm computes
//
//	C = alpha·op(A)·op(B) + beta·C
//
// where op(X) is X or Xᵀ as transA/transB say, op(A) is m×k, op(B) is k×n
// and C is m×n, all row-major with row strides lda, ldb, ldc. When beta is 0,
// C is overwritten and its previous contents (even NaN) are ignored, as in
// BLAS. A and B must not overlap C.
//
// Reference: the BLAS level-3 routine xGEMM (Dongarra et al., "A set of level
// 3 basic linear algebra subprograms", ACM TOMS 16(1), 1990), row-major.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernel: Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	need := func(name string, rows, cols, ld, have int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernel: Gemm: %s is %d×%d but its stride is %d", name, rows, cols, ld))
		}
		if want := (rows-1)*ld + cols; have < want {
			panic(fmt.Sprintf("kernel: Gemm: %s is %d×%d with stride %d and needs %d elements, has %d", name, rows, cols, ld, want, have))
		}
	}
	need("A", ar, ac, lda, la)
	need("B", br, bc, ldb, lb)
	need("C", m, n, ldc, lc)
}

// scaleC applies C ← beta·C over the m×n block (beta 0 overwrites with 0).
func scaleC[T Float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
