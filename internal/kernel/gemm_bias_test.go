package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// biasVariant is one implementation of GemmBias under test.
type biasVariant[T Float] struct {
	name string
	f    func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, bias, c []T, ldc int)
}

func biasVariants[T Float](arches []*gemmFree[T]) []biasVariant[T] {
	vs := []biasVariant[T]{{"GemmBias", GemmBias[T]}}
	packed := func(arch *gemmArch[T], threads int) biasVariant[T] {
		free := newGemmFree(arch)
		return biasVariant[T]{fmt.Sprintf("%s/%dT", arch.name, threads),
			func(transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, bias, c []T, ldc int) {
				gemmPackedBias(free, threads, 0, transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc, bias)
			}}
	}
	vs = append(vs, packed(refArch[T](), 2))
	for _, f := range arches {
		vs = append(vs, packed(f.arch, 1), packed(f.arch, 2), packed(tinyBlocks(f.arch), 3))
	}
	return vs
}

// biasCase is a gemmCase whose C rows all hold the bias: its beta = 1
// oracle is then op(A)·op(B) + bias. The implementations get a C whose
// elements are NaN inside as well as in the guards, so that one that reads
// C instead of overwriting it is caught.
func biasCase[T Float](r *rand.Rand, transA, transB bool, m, n, k int) (g *gemmCase[T], bias []T, cNaN []T) {
	g = newGemmCase(r, transA, transB, m, n, k, T(1), T(1))
	bias = make([]T, n)
	for j := range bias {
		bias[j] = T(r.Float64()*2 - 1)
	}
	cNaN = append([]T(nil), g.c...)
	for i := range m {
		for j := range n {
			g.c[g.cOff+i*g.ldc+j] = bias[j]
			cNaN[g.cOff+i*g.ldc+j] = T(math.NaN())
		}
	}
	return g, bias, cNaN
}

func testGemmBias[T Float](t *testing.T, arches []*gemmFree[T], cases int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 10))
	vs := biasVariants(arches)
	pick := func() int { return pickSize(r) }
	for range cases {
		m, n, k := pick(), pick(), pick()
		for m*n*k > 2_000_000 {
			m, k = max(1, m/2), max(1, k/2)
		}
		g, bias, cNaN := biasCase[T](r, r.IntN(2) == 0, r.IntN(2) == 0, m, n, k)
		val, bound := g.want()
		for _, v := range vs {
			c := append([]T(nil), cNaN...)
			v.f(g.transA, g.transB, m, n, k, g.a[g.aOff:], g.lda, g.b[g.bOff:], g.ldb, bias, c[g.cOff:], g.ldc)
			g.check(t, v.name, c, val, bound)
		}
	}
}

// TestGemmBias checks GemmBias and the packed driver with a bias on every
// arch, thread count and tiny blocking against the float64 oracle
// op(A)·op(B) + bias, with NaN in C before the call.
func TestGemmBias(t *testing.T) {
	testGemmBias(t, gemmArches32(), casesFor(t, 60, 10), 1)
	testGemmBias(t, gemmArches64(), casesFor(t, 30, 5), 2)
}

// TestGemmBiasSameBits checks that with k at most one k-block GemmBias is
// bit for bit the product (Gemm, beta 0) followed by adding the bias, and
// that at any k it is the same bits on 1, 2 and 3 threads.
func TestGemmBiasSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, f := range gemmArches32() {
		for _, s := range [][3]int{{768, 384, 128}, {100, 91, 128}, {37, 200, 256}, {64, 130, 512}, {13, 17, 300}} {
			m, n, k := s[0], s[1], s[2]
			g, bias, cNaN := biasCase[float32](r, false, true, m, n, k)
			run := func(threads int, withBias bool) []float32 {
				c := append([]float32(nil), cNaN...)
				var bb []float32
				if withBias {
					bb = bias
				}
				gemmPackedBias(f, threads, 0, false, true, m, n, k, 1, g.a[g.aOff:], g.lda, g.b[g.bOff:], g.ldb, 0, c[g.cOff:], g.ldc, bb)
				return c
			}
			one := run(1, true)
			for _, th := range []int{2, 3} {
				if got := run(th, true); !sameSlices(got, one) {
					t.Errorf("%s m=%d n=%d k=%d: %d threads differ from one", f.arch.name, m, n, k, th)
				}
			}
			if k > f.arch.kc {
				continue
			}
			plain := run(1, false)
			for i := range m {
				for j := range n {
					plain[g.cOff+i*g.ldc+j] += bias[j]
				}
			}
			if !sameSlices(one, plain) {
				t.Errorf("%s m=%d n=%d k=%d: GemmBias differs from the product plus the bias", f.arch.name, m, n, k)
			}
		}
	}
}

// sameSlices reports whether a and b hold equal values, NaN matching NaN.
func sameSlices[T Float](a, b []T) bool {
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			return false
		}
	}
	return len(a) == len(b)
}
