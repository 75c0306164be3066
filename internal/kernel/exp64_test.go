package kernel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestExp64: Exp64 gives math.Exp's bits on arguments across and around
// the kernel's range [−708, 709] (its edges, the subnormal and overflow
// regions, ±0, ±Inf, NaN), on lengths with and without a tail, with blocks
// the kernel leaves to math.Exp between blocks it computes.
func TestExp64(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	special := []float64{0, math.Copysign(0, -1), 1, -1, -708, 709, -708.0000001, 709.0000001, -745.2, -745.1, -800, 710, 1e-300, -1e-300,
		math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, 0.5 * math.Ln2, -0.5 * math.Ln2, 1.5 * math.Ln2}
	for _, n := range []int{0, 1, 7, 8, 9, 64, 1280, 1283} {
		for _, spread := range []float64{1, 30, 800} {
			x := make([]float64, n)
			for i := range x {
				x[i] = (2*r.Float64() - 1) * spread
				if r.IntN(50) == 0 {
					x[i] = special[r.IntN(len(special))]
				}
			}
			dst := make([]float64, n)
			Exp64(dst, x)
			for i, v := range x {
				if want := math.Exp(v); math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(dst[i])) {
					t.Fatalf("n=%d: Exp64(%v) = %v (%#x), math.Exp %v (%#x)", n, v, dst[i], math.Float64bits(dst[i]), want, math.Float64bits(want))
				}
			}
		}
	}
	x := append([]float64(nil), special...) // in place
	Exp64(x, x)
	for i, v := range special {
		if want := math.Exp(v); math.Float64bits(x[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(x[i])) {
			t.Fatalf("in place: Exp64(%v) = %v, want %v", v, x[i], want)
		}
	}
}

// FuzzExp64: Exp64 against math.Exp on arbitrary float64 bit patterns,
// and on arguments in the kernel's range drawn from them.
func FuzzExp64(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		x := make([]float64, 2*n)
		for i := range n {
			b := binary.LittleEndian.Uint64(data[8*i:])
			x[i] = math.Float64frombits(b)
			x[n+i] = float64(int64(b)>>11)/float64(1<<52)*700 - 5 // in range
		}
		dst := make([]float64, len(x))
		Exp64(dst, x)
		for i, v := range x {
			if want := math.Exp(v); math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(dst[i])) {
				t.Fatalf("Exp64(%v) = %v, math.Exp %v", v, dst[i], want)
			}
		}
	})
}

// BenchmarkExp64 computes the exponentials of one MNIST batch's logits
// (128 × 10, shifted to ≤ 0) with Exp64 and with math.Exp.
//
//	go test -run NONE -bench Exp64 ./internal/kernel/
func BenchmarkExp64(b *testing.B) {
	r := rand.New(rand.NewPCG(43, 44))
	x, dst := make([]float64, 1280), make([]float64, 1280)
	for i := range x {
		x[i] = -20 * r.Float64()
	}
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			Exp64(dst, x)
		}
	})
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				dst[i] = math.Exp(v)
			}
		}
	})
}
