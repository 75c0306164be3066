//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNarrowKernelsSameBits: the 8×32, 16×16 and 12×16 float32 kernels that Gemm
// picks for products with few rows or columns (narrowF32) give the same
// bits as the 12×32 kernel, on shapes
// with several k blocks, edge tiles in both directions, both transposes,
// alpha ≠ 1 (packed A) and beta = 1 — so that the choice never changes a
// result.
func TestNarrowKernelsSameBits(t *testing.T) {
	if freeF32AVX512 == nil {
		t.Skip("no AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, sz := range [][3]int{{16, 622, 72}, {8, 700, 9}, {40, 33, 600}, {17, 65, 257}, {64, 100, 300}, {72, 16, 622}, {9, 8, 726}, {130, 10, 300}} {
		for tr := range 4 {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 1}} {
				g := newGemmCase(r, tr&1 != 0, tr&2 != 0, sz[0], sz[1], sz[2], ab[0], ab[1])
				want := g.run(packedVariant(sgemmAVX512, 1).f)
				for _, ar := range []*gemmArch[float32]{sgemmAVX512x8, sgemmAVX512n16, sgemmAVX512n16r12} {
					got := g.run(packedVariant(ar, 1).f)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v, transposes %d, alpha %v beta %v: element %d = %v (%s), %v (12×32)", sz, tr, ab[0], ab[1], i, got[i], ar.name, want[i])
						}
					}
				}
			}
		}
	}
	for m, want := range map[int]bool{8: true, 10: false, 16: true, 24: false, 32: true, 40: true, 64: true, 72: false, 128: false} {
		if got := rows8(m); got != want {
			t.Errorf("rows8(%d) = %v, want %v", m, got, want)
		}
	}
	for _, c := range []struct {
		m, n int
		want *gemmFree[float32]
	}{{16, 622, freeF32AVX512x8}, {72, 16, freeF32AVX512n16r12}, {9, 8, freeF32AVX512n16r12}, {128, 10, freeF32AVX512n16}, {128, 256, freeF32AVX512}, {72, 622, freeF32AVX512}} {
		if got := narrowF32(c.m, c.n); got != c.want {
			t.Errorf("narrowF32(%d, %d) = %s, want %s", c.m, c.n, got.arch.name, c.want.arch.name)
		}
	}
}
