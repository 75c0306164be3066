package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackTransTwin checks that packB's transpose moves the same elements
// with packTrans8's assembly as with the Go loop alone: random panels
// widths, k-blocks, offsets and strides (tails of kc and of the panel
// included), the buffer around each panel left as it was.
func TestPackTransTwin(t *testing.T) {
	if !packHasAVX2 {
		t.Skip("no assembly transpose on this CPU or build")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		nr := []int{8, 16, 32}[r.IntN(3)]
		kc, nc := 1+r.IntN(70), 1+r.IntN(3*nr)
		pc, jc := r.IntN(5), r.IntN(5)
		ldb := pc + kc + r.IntN(4)
		b := make([]float32, (jc+nc)*ldb)
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
			packB(pb, nr, kc, nc, true, b, ldb, pc, jc)
			return pb
		}
		got, want := run(true), run(false)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("trial %d (nr=%d kc=%d nc=%d pc=%d jc=%d ldb=%d): element %d is %v with assembly, %v without",
					trial, nr, kc, nc, pc, jc, ldb, i, got[i], want[i])
			}
		}
		for i, v := range got[panels*kc*nr:] {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("trial %d: wrote %v past the panels at %d", trial, v, i)
			}
		}
	}
}
