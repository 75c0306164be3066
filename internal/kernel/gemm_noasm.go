//go:build !amd64 || purego

package kernel

// gemm is the pure-Go reference on machines without the assembly kernels
// and under the purego build tag.
func gemm[T Float](_ int, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmGeneric(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmArches32 and gemmArches64 list the packed implementations: none here.
func gemmArches32() []*gemmFree[float32] { return nil }
func gemmArches64() []*gemmFree[float64] { return nil }
