package kernel

// gemm routes to the implementation for the element type. Faster kernels
// replace the bodies of the per-type functions; the generic reference stays.
func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmGeneric(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
