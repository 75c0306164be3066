//go:build !amd64 || purego

package kernel

// gemmBias is the pure-Go reference on a C filled with the bias.
func gemmBias[T Float](_ int, transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, bias, c []T, ldc int) {
	fillRows(m, n, bias, c, ldc)
	gemmGeneric(transA, transB, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}
