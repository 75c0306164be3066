//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// The vector kernels of vec_amd64.s, hand-written. Each handles n elements,
// n a positive multiple of its lane count (16 for AVX-512, 8 for AVX2); the
// reference loops are the pure-Go twins axpyGo, dotGo and adamGo.

//go:noescape
func axpyAVX512(n int, alpha float32, x, y *float32)

//go:noescape
func axpyAVX2(n int, alpha float32, x, y *float32)

//go:noescape
func dotAVX512(n int, x, y *float32) float64

//go:noescape
func dotAVX2(n int, x, y *float32) float64

//go:noescape
func adamAVX512(n int, u, m, v, grad, theta *float32, k *adamCoeffs[float32])

//go:noescape
func adamAVX2(n int, u, m, v, grad, theta *float32, k *adamCoeffs[float32])

var (
	vecAVX512 = &vecImpl{name: "avx512", lanes: 16, avx512: true}
	vecAVX2   = &vecImpl{name: "avx2", lanes: 8}
)

// vecImpl is one set of assembly vector kernels (one instruction set), for
// the dispatch and for tests and benchmarks. Each kernel handles n
// elements, n a positive multiple of lanes; the methods below run it on
// the longest such prefix of their slices and return its length, leaving
// the tail to the pure-Go twin. They call the kernels directly, not
// through function values, so that the compiler sees //go:noescape and
// the arguments stay on the stack.
type vecImpl struct {
	name   string
	lanes  int  // a power of two
	avx512 bool // AVX-512 kernels, else AVX2
}

func (im *vecImpl) axpy32(alpha float32, x, y []float32) int {
	n := len(x) &^ (im.lanes - 1)
	if n > 0 {
		y = y[:n]
		if im.avx512 {
			axpyAVX512(n, alpha, &x[0], &y[0])
		} else {
			axpyAVX2(n, alpha, &x[0], &y[0])
		}
	}
	return n
}

func (im *vecImpl) dot32(x, y []float32) (float64, int) {
	n := len(x) &^ (im.lanes - 1)
	if n == 0 {
		return 0, 0
	}
	y = y[:n]
	if im.avx512 {
		return dotAVX512(n, &x[0], &y[0]), n
	}
	return dotAVX2(n, &x[0], &y[0]), n
}

func (im *vecImpl) adam32(u, m, v, g, theta []float32, k *adamCoeffs[float32]) int {
	n := len(theta) &^ (im.lanes - 1)
	if n > 0 {
		u, m, v, g = u[:n], m[:n], v[:n], g[:n]
		if im.avx512 {
			adamAVX512(n, &u[0], &m[0], &v[0], &g[0], &theta[0], k)
		} else {
			adamAVX2(n, &u[0], &m[0], &v[0], &g[0], &theta[0], k)
		}
	}
	return n
}

// vecBest is the fastest set this CPU runs, or nil; set once at start-up
// from the CPU's features, like the GEMM micro-kernels (gemm_amd64.go).
var vecBest *vecImpl

func init() {
	if v := vecImpls(); len(v) > 0 {
		vecBest = v[0]
	}
}

// vecImpls lists the assembly vector kernels this CPU can run, fastest
// first. The AVX2 set needs FMA3 too (Dot's accumulation).
func vecImpls() []*vecImpl {
	var out []*vecImpl
	if cpu.X86.HasAVX512F {
		out = append(out, vecAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		out = append(out, vecAVX2)
	}
	return out
}

func axpy32(alpha float32, x, y []float32) int {
	if vecBest == nil {
		return 0
	}
	return vecBest.axpy32(alpha, x, y)
}

func dot32(x, y []float32) (float64, int) {
	if vecBest == nil {
		return 0, 0
	}
	return vecBest.dot32(x, y)
}

func adam32(u, m, v, g, theta []float32, k *adamCoeffs[float32]) int {
	if vecBest == nil {
		return 0
	}
	return vecBest.adam32(u, m, v, g, theta, k)
}
