//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// The kernels of vec_relu_amd64.s (AVX-512 only: rows of any length, the
// tail of each row under a mask; CPUs without AVX-512 run the Go loops).
// Leading dimensions are in elements.

//go:noescape
func reluRowsAVX512(rows, cols int, dst *float32, ldd int, src *float32, lds int, b float32)

//go:noescape
func reluGradRowsAVX512(rows, cols int, dst *float32, ldd int, grad *float32, ldg int, y *float32, ldy int, acc bool) float64

//go:noescape
func pool2x2ReLUAVX512(pw int, src *float32, oc, rs int, bias *float32, c0 int32, dst *float32, arg *int32)

// reluHasAVX512 reports whether this CPU runs the kernels; a variable so
// that tests can turn them off and compare with the Go loops.
var reluHasAVX512 = cpu.X86.HasAVX512F

// rowDotsAVX512 writes out[r·8 + j] = Σ_{t<k} a_r[t]·b_j[t] for the two
// rows a0, a1 of A and the eight rows of B that rows points at (see
// RowDots32 for the order of the sums); k ≥ 1.
//
//go:noescape
func rowDotsAVX512(k int, a0, a1 *float32, rows *[8]*float32, out *[16]float32)

// transpose16AVX512 writes dst[j·ldd + i] = src[i·lds + j] for i, j < 16
// (any 32-bit elements).
//
//go:noescape
func transpose16AVX512(src *float32, lds int, dst *float32, ldd int)

// prefetchAVX asks for the lines of the n floats at p (n ≥ 1) to be
// brought into the caches (PREFETCHT0).
//
//go:noescape
func prefetchAVX(p *float32, n int)

// Prefetch asks the CPU to bring x into its caches ahead of a read (x86
// PREFETCHT0 on each of its cache lines; nothing elsewhere or in a purego
// build). It reads and writes nothing and never faults: a hint for a
// gather whose rows lie far apart in memory, so that their cache misses
// overlap instead of coming one row after another.
func Prefetch(x []float32) {
	if len(x) > 0 {
		prefetchAVX(&x[0], len(x))
	}
}

// addRowsAVX512 writes dst[r·ldd + j] = a[r·lda + j] + v[j] (rows ≥ 1).
//
//go:noescape
func addRowsAVX512(rows, cols int, dst *float32, ldd int, a *float32, lda int, v *float32)

// unpool2x2AVX512 is one row of pw windows of Unpool2x2ReLU32 (pw ≥ 1).
//
//go:noescape
func unpool2x2AVX512(pw int, gy, yv *float32, arg *int32, oc, rs int, c0 int32, dst *float32, sums *[16]float64)
