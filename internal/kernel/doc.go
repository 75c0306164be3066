// Package kernel holds the hot loops of the project behind one small API:
// the general matrix product (GEMM) and the vector kernels (axpy, dot,
// scale) the tensor package is built on.
//
// Every routine works on plain slices in row-major order and is generic over
// float32 and float64. The pure-Go implementation in this package is the
// reference: it is correct for every shape and cache-blocked so that it is a
// fair baseline. Faster implementations (Go assembly, chosen at run time from
// the CPU's features) replace the inner loops without changing the API; the
// purego build tag forces the pure-Go path.
//
// Layout legend used in the doc comments:
//
//	op(A)  m×k   (A itself is k×m when transA is set)
//	op(B)  k×n   (B itself is n×k when transB is set)
//	C      m×n
//	lda, ldb, ldc: row strides (elements between consecutive rows)
package kernel
