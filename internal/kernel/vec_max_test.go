package kernel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMax32 checks Max32, with the assembly and without, against the
// definition (a plain loop with the max builtin) on random lengths inside
// NaN guard bands (an element read past the end would poison the result),
// with ±Inf, ±0 and NaN planted at random places; ±0 compare equal.
func TestMax32(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	specials := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), float32(math.NaN())}
	for trial := range 2000 {
		n := r.IntN(100)
		x, _ := guarded(r, n, func(int) float32 { return float32(r.NormFloat64()) })
		switch trial % 4 {
		case 1: // one special value somewhere
			if n > 0 {
				x[r.IntN(n)] = specials[r.IntN(len(specials))]
			}
		case 2: // all negative, then some −Inf and −0
			for i := range x {
				x[i] = -float32(math.Abs(float64(x[i])))
				if r.IntN(4) == 0 {
					x[i] = specials[1+2*r.IntN(2)]
				}
			}
		}
		want := float32(math.Inf(-1))
		for _, v := range x {
			want = max(want, v)
		}
		for _, asm := range []bool{true, false} {
			old := maxHasAVX512
			maxHasAVX512 = maxHasAVX512 && asm
			got := Max32(x)
			maxHasAVX512 = old
			same := got == want || (math.IsNaN(float64(got)) && math.IsNaN(float64(want)))
			if !same {
				t.Fatalf("trial %d, n = %d, assembly %v: Max32 = %v, want %v (x = %v)", trial, n, asm, got, want, x)
			}
		}
	}
}

// FuzzMax32 compares Max32's assembly with its pure-Go twin on arbitrary
// float32 bit patterns (every NaN payload, subnormals, ±0, ±Inf).
func FuzzMax32(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0x80, 0xff, 0, 0, 0xc0, 0x7f, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		got, want := Max32(x), maxGo(x)
		if got != want && !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) {
			t.Fatalf("Max32(%v) = %v, the Go loop %v", x, got, want)
		}
	})
}
