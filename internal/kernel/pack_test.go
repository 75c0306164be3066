package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackTwin checks that packB moves the same elements with the
// assembly (packTrans8 for a transposed B, packRows32 for one read row by
// row) as with its Go loops alone: random panel widths, k-blocks, offsets
// and strides (tails of kc and of the panel included), the buffer past
// the panels left as it was.
func TestPackTwin(t *testing.T) {
	if !packHasAVX2 {
		t.Skip("no assembly transpose on this CPU or build")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		nr := []int{8, 16, 32}[r.IntN(3)]
		kc, nc := 1+r.IntN(70), 1+r.IntN(3*nr)
		pc, jc := r.IntN(5), r.IntN(5)
		trans := r.IntN(2) == 0
		ldb := pc + kc + r.IntN(4) // B is (jc+nc)×ldb transposed, else (pc+kc)×ldb
		rows := jc + nc
		if !trans {
			ldb, rows = jc+nc+r.IntN(4), pc+kc
		}
		b := make([]float32, rows*ldb)
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		panels := (nc + nr - 1) / nr
		run := func(asm bool) []float32 {
			old := packHasAVX2
			packHasAVX2 = asm
			defer func() { packHasAVX2 = old }()
			pb := make([]float32, panels*kc*nr+guard)
			for i := range pb {
				pb[i] = float32(math.NaN())
			}
			packB(pb, nr, kc, nc, trans, b, ldb, pc, jc)
			return pb
		}
		got, want := run(true), run(false)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("trial %d (transB=%v nr=%d kc=%d nc=%d pc=%d jc=%d ldb=%d): element %d is %v with assembly, %v without",
					trial, trans, nr, kc, nc, pc, jc, ldb, i, got[i], want[i])
			}
		}
		for i, v := range got[panels*kc*nr:] {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("trial %d: wrote %v past the panels at %d", trial, v, i)
			}
		}
	}
}
