package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the triple loop of the definition, in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				av := a[i*lda+p]
				if transA {
					av = a[p*lda+i]
				}
				bv := b[p*ldb+j]
				if transB {
					bv = b[j*ldb+p]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return s
}

func TestGemmAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {65, 3, 257}, {70, 520, 13}, {17, 31, 300}, {0, 3, 4}, {3, 0, 4}, {3, 4, 0}}
	for _, sz := range sizes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, ab := range [][2]float64{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					m, n, k := sz[0], sz[1], sz[2]
					name := fmt.Sprintf("m%d_n%d_k%d_ta%v_tb%v_a%g_b%g", m, n, k, ta, tb, ab[0], ab[1])
					t.Run(name, func(t *testing.T) {
						lda, ldb, ldc := k+2, n+1, n+3
						if ta {
							lda = m + 2
						}
						if tb {
							ldb = k + 1
						}
						a := randSlice(r, max(m, k)*lda+1)
						b := randSlice(r, max(n, k)*ldb+1)
						c := randSlice(r, m*ldc+1)
						want := append([]float64(nil), c...)
						naiveGemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
						Gemm(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
						for i := range c {
							if math.Abs(c[i]-want[i]) > 1e-12*float64(k+1) {
								t.Fatalf("C[%d] = %v, want %v", i, c[i], want[i])
							}
						}
					})
				}
			}
		}
	}
}

func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	a := []float32{1, 2, 3, 4}
	b := []float32{1, 0, 0, 1}
	c := []float32{float32(math.NaN()), float32(math.NaN()), float32(math.NaN()), float32(math.NaN())}
	Gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	for i, want := range a {
		if c[i] != want {
			t.Fatalf("C[%d] = %v, want %v", i, c[i], want)
		}
	}
}

func TestGemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Gemm with a short A did not panic")
		}
	}()
	Gemm(false, false, 2, 2, 2, 1, make([]float64, 3), 2, make([]float64, 4), 2, 0, make([]float64, 4), 2)
}

func TestDotAxpyScale(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5}
	y := []float32{5, 4, 3, 2, 1}
	if got := Dot(x, y); got != 35 {
		t.Fatalf("Dot = %v, want 35", got)
	}
	Axpy(2, x, y)
	want := []float32{7, 8, 9, 10, 11}
	for i := range y {
		if y[i] != want[i] {
			t.Fatalf("Axpy: y[%d] = %v, want %v", i, y[i], want[i])
		}
	}
	Scale(0.5, y)
	if y[0] != 3.5 {
		t.Fatalf("Scale: y[0] = %v, want 3.5", y[0])
	}
	if got := Sum(x); got != 15 {
		t.Fatalf("Sum = %v, want 15", got)
	}
}
