//go:build amd64 && !purego

package kernel

import "unsafe"

// gemmBias routes GemmBias to the packed GEMM that gemm would use for the
// same shape (so both sum every element in the same order), falling back
// to the pure-Go reference on a C filled with the bias.
func gemmBias[T Float](threads int, transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, bias, c []T, ldc int) {
	switch unsafe.Sizeof(bias[0]) {
	case 4:
		if gemmF32 != nil {
			free := gemmF32
			if free == freeF32AVX512 {
				free = narrowF32(m, n)
			}
			gemmPackedBias(free, threads, parallelMinFlops, transA, transB, m, n, k, 1, asF32(a), lda, asF32(b), ldb, 0, asF32(c), ldc, asF32(bias))
			return
		}
	case 8:
		if gemmF64 != nil {
			gemmPackedBias(gemmF64, threads, parallelMinFlops, transA, transB, m, n, k, 1, asF64(a), lda, asF64(b), ldb, 0, asF64(c), ldc, asF64(bias))
			return
		}
	}
	fillRows(m, n, bias, c, ldc)
	gemmGeneric(transA, transB, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}
