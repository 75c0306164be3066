package kernel

import (
	"fmt"
	"unsafe"

	"github.com/genopt/gen/internal/kernel/openblas"
)

// GemmBias computes the affine map of a linear layer,
//
//	C[i, j] = Σ_p op(A)[i, p]·op(B)[p, j] + bias[j]
//
// with op(A) m×k, op(B) k×n, C m×n (overwritten) and bias n elements, all
// row-major with row strides lda, ldb, ldc as in Gemm. It is Gemm with
// alpha 1 and beta 0 followed by adding bias to every row, in one pass over
// C: the packed GEMM writes the bias into each cache block of C just before
// its micro-kernels add the product to it, instead of a second pass over a
// C that has left the cache (in the GPT's forward the separate pass cost a
// fifth of the products' time). Each element is bias[j] + Σ_p, summed in
// Gemm's order; for k at most one k-block (256 with the AVX-512 float32
// kernels) that is the same bits as Gemm then the addition, else the bias
// joins the first block's sum. The result is the same for every thread
// count. In a build with the openblas tag, and in the pure-Go reference, C
// is filled with the bias and the product added to it (beta 1).
func GemmBias[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, bias []T, c []T, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if len(bias) != n {
		panic(fmt.Sprintf("kernel: GemmBias: bias has %d elements, C has %d columns", len(bias), n))
	}
	if m == 0 || n == 0 {
		return
	}
	if openblas.Available {
		fillRows(m, n, bias, c, ldc)
		if unsafe.Sizeof(bias[0]) == 4 {
			openblas.Sgemm(transA, transB, m, n, k, 1, asF32(a), lda, asF32(b), ldb, 1, asF32(c), ldc)
		} else {
			openblas.Dgemm(transA, transB, m, n, k, 1, asF64(a), lda, asF64(b), ldb, 1, asF64(c), ldc)
		}
		return
	}
	gemmBias(Threads(), transA, transB, m, n, k, a, lda, b, ldb, bias, c, ldc)
}

// fillRows writes bias into each of the m rows of the m×n block c.
func fillRows[T Float](m, n int, bias, c []T, ldc int) {
	bias = bias[:n]
	for i := range m {
		copy(c[i*ldc:i*ldc+n], bias)
	}
}
