package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// RowDots32 against its reference (the 16-lane sums, rowDotsGo) and both
// against float64 dot products, on shapes around the blocks of 2 rows, 8
// rows and 16 lanes, with gaps between rows and NaN guard bands.
func TestRowDots32(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for trial := range 200 {
		m, n, k := 1+r.IntN(11), 1+r.IntN(19), r.IntN(100)
		if trial == 0 {
			m, n, k = 9, 8, 726 // the first convolution's weight gradient
		}
		lda, ldb, ldc := k+r.IntN(3), k+r.IntN(3), n+r.IntN(3)
		normal := func() float32 { return float32(r.NormFloat64()) }
		a, abuf := rowsBuf(r, m, max(k, 1), max(lda, 1), normal)
		b, bbuf := rowsBuf(r, n, max(k, 1), max(ldb, 1), normal)
		acc := trial%2 == 1
		c0, _ := rowsBuf(r, m, n, ldc, normal)
		got, cbuf := rowsBuf(r, m, n, ldc, normal)
		copy(got, c0)
		RowDots32(m, n, k, a, lda, b, ldb, got, ldc, acc)
		checkGuards(t, "RowDots32 a", a, abuf)
		checkGuards(t, "RowDots32 b", b, bbuf)
		checkGuards(t, "RowDots32 c", got, cbuf)
		gapsKept(t, "RowDots32 c", got, m, n, ldc)
		ref := append([]float32(nil), c0...)
		rowDotsGo(m, n, k, a, lda, b, ldb, ref, ldc, acc)
		for i := range m {
			for j := range n {
				var want, mag float64
				for p := range k {
					x := float64(a[i*lda+p]) * float64(b[j*ldb+p])
					want += x
					mag += math.Abs(x)
				}
				if acc {
					want += float64(c0[i*ldc+j])
					mag += math.Abs(float64(c0[i*ldc+j]))
				}
				g := got[i*ldc+j]
				// float32 sums of k/16 + 4 terms per lane: (k/16 + 6)·2⁻²⁴·Σ|terms|.
				tol := float64(k/16+6) * 0x1p-24 * mag
				if math.Abs(float64(g)-want) > tol {
					t.Fatalf("m %d n %d k %d acc %v: c[%d,%d] = %v, float64 dot %v (tolerance %g)", m, n, k, acc, i, j, g, want, tol)
				}
				// Against the reference: the same operations, up to the
				// reference's double rounding (one float32 ulp of a lane sum).
				if reluHasAVX512 && math.Abs(float64(g-ref[i*ldc+j])) > 4*0x1p-24*mag {
					t.Fatalf("m %d n %d k %d acc %v: c[%d,%d] = %v, reference %v", m, n, k, acc, i, j, g, ref[i*ldc+j])
				}
			}
		}
	}
}

func BenchmarkRowDots32(b *testing.B) {
	const m, n, k = 9, 8, 726
	a, bb, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range bb {
		bb[i] = float32(i%5) - 2
	}
	b.Run("rowdots", func(b *testing.B) {
		for b.Loop() {
			RowDots32(m, n, k, a, k, bb, k, c, n, false)
		}
	})
	b.Run("gemm", func(b *testing.B) {
		for b.Loop() {
			GemmOneThread(false, true, m, n, k, 1, a, k, bb, k, 0, c, n)
		}
	})
}
