//go:build openblas

package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
*/
import "C"

import "unsafe"

// Available reports whether the binding was compiled in (the openblas tag).
const Available = true

// SetThreads sets OpenBLAS's thread count (openblas_set_num_threads).
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

func trans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C in float32, row-major, by
// cblas_sgemm; the arguments mean what they mean in kernel.Gemm and must
// already have been checked (m, n > 0, slices long enough).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	C.cblas_sgemm(C.CblasRowMajor, trans(transA), trans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(ptr(a))), C.blasint(lda), (*C.float)(unsafe.Pointer(ptr(b))), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(ptr(c))), C.blasint(ldc))
}

// Dgemm is Sgemm in float64, by cblas_dgemm.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	C.cblas_dgemm(C.CblasRowMajor, trans(transA), trans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(ptr(a))), C.blasint(lda), (*C.double)(unsafe.Pointer(ptr(b))), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(ptr(c))), C.blasint(ldc))
}

// ptr returns the address of s's first element, or nil for an empty slice
// (OpenBLAS does not read an operand with a zero dimension).
func ptr[T any](s []T) *T { return unsafe.SliceData(s) }
