//go:build !openblas

package openblas

// Available reports whether the binding was compiled in (the openblas tag).
const Available = false

const missing = "openblas: built without the openblas tag; rebuild with -tags openblas (needs cgo and libopenblas-dev)"

// SetThreads panics: the binding is not compiled in.
func SetThreads(n int) { panic(missing) }

// Sgemm panics: the binding is not compiled in.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic(missing)
}

// Dgemm panics: the binding is not compiled in.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	panic(missing)
}
