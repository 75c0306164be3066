package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDecoder8: Decode gives the table's bits for every code at every
// position of a block, on lengths with and without a tail, for a table of
// distinct bit patterns (NaNs, −0, subnormals and infinities among them),
// and the twin gives the definition.
func TestDecoder8(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	table := new([256]float32)
	for c := range table {
		table[c] = math.Float32frombits(r.Uint32())
	}
	table[0], table[1], table[2], table[3] = 0, float32(math.Copysign(0, -1)), float32(math.Inf(-1)), math.Float32frombits(1)
	table[255] = math.Float32frombits(0x7fc00001) // a NaN with a payload
	d := NewDecoder8(table)
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 784, 1000, 4096} {
		src := make([]uint8, n)
		for i := range src {
			src[i] = uint8(r.Uint32())
		}
		if n >= 256 {
			for i := range 256 { // every code at positions of every residue mod 64
				src[(i*37)%n] = uint8(i)
			}
		}
		dst := make([]float32, n)
		d.Decode(dst, src)
		for i, c := range src {
			if math.Float32bits(dst[i]) != math.Float32bits(table[c]) {
				t.Fatalf("n=%d: dst[%d] = %#x, want table[%d] = %#x", n, i, math.Float32bits(dst[i]), c, math.Float32bits(table[c]))
			}
		}
	}
}

// FuzzDecoder8: the kernel against the table on arbitrary codes and
// table bits.
func FuzzDecoder8(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), uint64(1))
	f.Fuzz(func(t *testing.T, src []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 33))
		table := new([256]float32)
		for c := range table {
			table[c] = math.Float32frombits(r.Uint32())
		}
		dst := make([]float32, len(src))
		NewDecoder8(table).Decode(dst, src)
		for i, c := range src {
			if math.Float32bits(dst[i]) != math.Float32bits(table[c]) {
				t.Fatalf("dst[%d] = %#x, want table[%d] = %#x", i, math.Float32bits(dst[i]), c, math.Float32bits(table[c]))
			}
		}
	})
}

// TestDecoder8NoAllocs: Reset and Decode allocate nothing.
func TestDecoder8NoAllocs(t *testing.T) {
	var d Decoder8
	table, src, dst := new([256]float32), make([]uint8, 784), make([]float32, 784)
	if a := testing.AllocsPerRun(10, func() { d.Reset(table); d.Decode(dst, src) }); a != 0 {
		t.Fatalf("%v allocations, want 0", a)
	}
}

// BenchmarkDecoder8 decodes one MNIST batch's codes (128 rows of 784, in
// cache) with the kernel and with the pure-Go twin.
//
//	go test -run NONE -bench Decoder8 ./internal/kernel/
func BenchmarkDecoder8(b *testing.B) {
	const rows, f = 128, 784
	src, dst, table := make([]uint8, rows*f), make([]float32, rows*f), new([256]float32)
	for i := range src {
		src[i] = uint8(i * 7)
	}
	for p := range table {
		table[p] = float32(p) / 255
	}
	d := NewDecoder8(table)
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			for r := range rows {
				d.Decode(dst[r*f:(r+1)*f], src[r*f:(r+1)*f])
			}
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			decode8Go(dst, src, table)
		}
	})
}
