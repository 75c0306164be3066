package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Transpose32 by its definition, on shapes around the 16×16 blocks, with
// gaps between rows and NaN guard bands (float32), and on int32.
func TestTranspose32(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	for range 200 {
		rows, cols := 1+r.IntN(40), 1+r.IntN(40)
		lds, ldd := cols+r.IntN(3), rows+r.IntN(3)
		src, sbuf := rowsBuf(r, rows, cols, lds, func() float32 { return float32(r.NormFloat64()) })
		dst, dbuf := rowsBuf(r, cols, rows, ldd, func() float32 { return 7 })
		Transpose32(rows, cols, dst, ldd, src, lds)
		checkGuards(t, "Transpose32 src", src, sbuf)
		checkGuards(t, "Transpose32 dst", dst, dbuf)
		gapsKept(t, "Transpose32 dst", dst, cols, rows, ldd)
		for i := range rows {
			for j := range cols {
				if math.Float32bits(dst[j*ldd+i]) != math.Float32bits(src[i*lds+j]) {
					t.Fatalf("%d×%d (lds %d, ldd %d): dst[%d,%d] = %v, src[%d,%d] = %v", rows, cols, lds, ldd, j, i, dst[j*ldd+i], i, j, src[i*lds+j])
				}
			}
		}
		is, id := make([]int32, rows*cols), make([]int32, rows*cols)
		for i := range is {
			is[i] = int32(r.Uint32())
		}
		Transpose32(rows, cols, id, rows, is, cols)
		for i := range rows {
			for j := range cols {
				if id[j*rows+i] != is[i*cols+j] {
					t.Fatalf("int32 %d×%d: dst[%d,%d] = %d, want %d", rows, cols, j, i, id[j*rows+i], is[i*cols+j])
				}
			}
		}
	}
}

// Prefetch changes nothing and does not fault on slices of any length and
// alignment, up to the end of their allocation.
func TestPrefetch(t *testing.T) {
	buf := make([]float32, 100)
	for i := range buf {
		buf[i] = float32(i)
	}
	for lo := range 20 {
		for hi := lo; hi <= len(buf); hi += 7 {
			Prefetch(buf[lo:hi])
			Prefetch(buf[lo:len(buf)])
		}
	}
	for i, v := range buf {
		if v != float32(i) {
			t.Fatalf("buf[%d] = %v after Prefetch, want %d", i, v, i)
		}
	}
}

// BenchmarkPackBTransposed packs one 32-column micro-panel of a transposed
// B (the weight of a 784-input linear layer, op(B) = Wᵀ), as every X·Wᵀ of
// a linear layer does (packTrans8's 8×8 tiles where there is assembly).
//
//	go test -run NONE -bench PackBTransposed ./internal/kernel
func BenchmarkPackBTransposed(b *testing.B) {
	const nr, kc, ldb = 32, 256, 784
	pb, src := make([]float32, kc*nr), make([]float32, nr*ldb)
	for b.Loop() {
		packB(pb, nr, kc, nr, true, src, ldb, 0, 0)
	}
}
