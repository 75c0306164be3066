//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelVariantsSameBits: the 12×32 float32 GEMM with its variants —
// blocks that end in 8-row tiles (kern8, where the rows are a multiple of 4
// but not of 12: the MLP's m = 128 and 256) and a non-transposed B read in
// place (kernB, kern8B, where inPlaceB: the MLP's batch as the weight
// gradient's B) — gives the bits of the plain kernel with padded edge
// tiles and packed B, on one and two threads, both transposes, beta 0 and
// 1, alpha 1 and not (packed A), several k blocks, two column blocks, and
// column edges.
func TestKernelVariantsSameBits(t *testing.T) {
	if freeF32AVX512 == nil {
		t.Skip("no AVX-512 on this CPU")
	}
	plain := *sgemmAVX512
	plain.kern8, plain.kernB, plain.kern8B = nil, nil, nil
	r := rand.New(rand.NewPCG(61, 62))
	for _, sz := range [][3]int{{128, 256, 784}, {256, 784, 128}, {64, 40, 300}, {20, 33, 17}, {200, 70, 260}, {44, 32, 8}, {13, 40, 30}, {16, 2100, 40}, {24, 96, 50}} {
		for tr := range 4 {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 1}} {
				g := newGemmCase(r, tr&1 != 0, tr&2 != 0, sz[0], sz[1], sz[2], ab[0], ab[1])
				for _, threads := range []int{1, 2} {
					want := g.run(packedVariant(&plain, threads).f)
					got := g.run(packedVariant(sgemmAVX512, threads).f)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v, transposes %d, alpha %v beta %v, %d threads: element %d = %v with the variants, %v without", sz, tr, ab[0], ab[1], threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
	for _, c := range [][3]int{{128, 12, 8}, {256, 12, 16}, {192, 12, 0}, {64, 12, 16}, {20, 12, 8}, {13, 12, 0}, {8, 12, 8}, {4, 12, 0}, {10, 12, 0}} {
		if got := tailRows8(c[0], c[1]); got != c[2] {
			t.Errorf("tailRows8(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
	for ldb, want := range map[int]bool{784: true, 256: false, 1024: false, 100: true, 32: false, 48: true} {
		if got := inPlaceB(ldb, 4); got != want {
			t.Errorf("inPlaceB(%d, 4) = %v, want %v", ldb, got, want)
		}
	}
}
