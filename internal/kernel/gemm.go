package kernel

import (
	"fmt"
	"unsafe"

	"github.com/genopt/gen/internal/kernel/openblas"
)

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
//
// Gemm is GemmGo, except in a build with the openblas tag, where it calls
// OpenBLAS's cblas_sgemm or cblas_dgemm instead.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmOn(Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOn is Gemm on the given number of threads (OpenBLAS, where it is
// built in, chooses its own).
func gemmOn[T Float](threads int, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if openblas.Available {
		if unsafe.Sizeof(alpha) == 4 {
			openblas.Sgemm(transA, transB, m, n, k, float32(alpha), asF32(a), lda, asF32(b), ldb, float32(beta), asF32(c), ldc)
		} else {
			openblas.Dgemm(transA, transB, m, n, k, float64(alpha), asF64(a), lda, asF64(b), ldb, float64(beta), asF64(c), ldc)
		}
		return
	}
	gemm(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmGo computes the same product as Gemm, always with this package's own
// code whatever the build tags: on amd64 the packed GEMM with the AVX-512 or
// AVX2+FMA micro-kernels chosen at start-up from the CPU's features (see
// gemmPacked), spread over up to Threads() threads; with the purego tag or
// on other architectures the pure-Go reference on one thread.
//
// The result is bit-for-bit the same for every thread count: each element of
// C is accumulated over k in blocks of a fixed size, in the same order,
// whichever thread computes it. It is not bit-for-bit the same as OpenBLAS or
// as the pure-Go reference (fused multiply-adds round differently).
func GemmGo[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	gemm(Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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
