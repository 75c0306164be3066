//go:build amd64 && !purego

package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRows8SameBits: the 8×32 float32 kernel that Gemm picks for products
// with few rows (rows8) gives the same bits as the 12×32 kernel, on shapes
// with several k blocks, edge tiles in both directions, both transposes,
// alpha ≠ 1 (packed A) and beta = 1 — so that the choice never changes a
// result.
func TestRows8SameBits(t *testing.T) {
	if freeF32AVX512x8 == nil {
		t.Skip("no AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, sz := range [][3]int{{16, 622, 72}, {8, 700, 9}, {40, 33, 600}, {17, 65, 257}, {64, 100, 300}} {
		for tr := range 4 {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 1}} {
				g := newGemmCase(r, tr&1 != 0, tr&2 != 0, sz[0], sz[1], sz[2], ab[0], ab[1])
				want := g.run(packedVariant(sgemmAVX512, 1).f)
				got := g.run(packedVariant(sgemmAVX512x8, 1).f)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v, transposes %d, alpha %v beta %v: element %d = %v (8×32), %v (12×32)", sz, tr, ab[0], ab[1], i, got[i], want[i])
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
}
