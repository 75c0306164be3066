//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTailRows8SameBits: the 12×32 float32 kernel whose blocks end in 8-row
// tiles (kern8, where the rows are a multiple of 4 but not of 12 — the
// MLP's m = 128 and 256) gives the bits of the same kernel with padded
// 12-row edge tiles, on one and two threads, both transposes, beta 0 and 1,
// several k blocks and column edges.
func TestTailRows8SameBits(t *testing.T) {
	if freeF32AVX512 == nil {
		t.Skip("no AVX-512 on this CPU")
	}
	padded := *sgemmAVX512
	padded.kern8 = nil
	r := rand.New(rand.NewPCG(61, 62))
	for _, sz := range [][3]int{{128, 256, 784}, {256, 784, 128}, {64, 40, 300}, {20, 33, 17}, {200, 70, 260}, {44, 32, 8}, {13, 40, 30}} {
		for tr := range 4 {
			for _, beta := range []float32{0, 1} {
				g := newGemmCase(r, tr&1 != 0, tr&2 != 0, sz[0], sz[1], sz[2], 1, beta)
				for _, threads := range []int{1, 2} {
					want := g.run(packedVariant(&padded, threads).f)
					got := g.run(packedVariant(sgemmAVX512, threads).f)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v, transposes %d, beta %v, %d threads: element %d = %v with 8-row tail tiles, %v padded", sz, tr, beta, threads, i, got[i], want[i])
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
}
