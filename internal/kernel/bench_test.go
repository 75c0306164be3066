package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShape is a GEMM shape: C (m×n) = op(A) (m×k)·op(B) (k×n).
type benchShape struct {
	name           string
	m, k, n        int
	transA, transB bool
}

// leads returns the leading dimensions of A and B stored densely.
func (s benchShape) leads() (lda, ldb int) {
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return lda, ldb
}

// benchShapes are the float32 GEMM shapes of PERF.md.
var benchShapes = []benchShape{
	{"128x128x128", 128, 128, 128, false, false},
	{"256x256x256", 256, 256, 256, false, false},
	{"512x512x512", 512, 512, 512, false, false},
	{"1024x1024x1024", 1024, 1024, 1024, false, false},
	{"mlp-fwd-128x784x256", 128, 784, 256, false, false},
	{"mlp-dW-784x128x256", 784, 128, 256, true, false},
	{"mlp-dX-128x256x784", 128, 256, 784, false, true},
	{"out-128x256x10", 128, 256, 10, false, false},
	{"proj-1024x128x384", 1024, 128, 384, false, false},
	{"attn-128x32x128", 128, 32, 128, false, true},
	{"im2col-25088x288x64", 25088, 288, 64, false, false},
}

// BenchmarkGemmThreads times the float32 GEMM of the MLP's and the
// squares' shapes on 1 and 2 threads (GOMAXPROCS ≥ 2), reporting GFLOP/s:
// the second thread should nearly double the rate on products of 0.1 ms and
// more, which it did not while the pool's threads parked between shares.
//
//	go test -run NONE -bench GemmThreads -cpu 2 ./internal/kernel/
func BenchmarkGemmThreads(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	defer SetThreads(0)
	for _, s := range benchShapes[1:7] {
		a, bm, c := randF32(r, s.m*s.k), randF32(r, s.k*s.n), make([]float32, s.m*s.n)
		lda, ldb := s.leads()
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", s.name, th), func(b *testing.B) {
				SetThreads(th)
				for range b.N {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmShapes compares, on one thread, the packed assembly GEMM
// (GemmGo), the pure-Go reference (gemmGeneric) and gonum's pure-Go Sgemm on
// the PERF.md shapes, reporting GFLOP/s.
//
//	go test -run NONE -bench GemmShapes ./internal/kernel/
func BenchmarkGemmShapes(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	SetThreads(1)
	defer SetThreads(0)
	for _, s := range benchShapes {
		a, bb, c := randF32(r, s.m*s.k), randF32(r, s.k*s.n), make([]float32, s.m*s.n)
		lda, ldb := s.leads()
		flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		impls := []struct {
			name string
			f    func()
		}{
			{"asm", func() { GemmGo(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n) }},
			{"purego", func() { gemmGeneric(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n) }},
			{"gonum", func() {
				ta, tb := blas.NoTrans, blas.NoTrans
				if s.transA {
					ta = blas.Trans
				}
				if s.transB {
					tb = blas.Trans
				}
				gonum.Implementation{}.Sgemm(ta, tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}},
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%s", s.name, im.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					im.f()
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkElementwise times the fused kernels on the MLP's sizes (batch
// 128, hidden 256, 784·256 + 256 parameters for Adam).
func BenchmarkElementwise(b *testing.B) {
	x, y, bias := make([]float32, 128*256), make([]float32, 128*256), make([]float32, 256)
	b.Run("BiasActivate-relu-128x256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			BiasActivate(ActReLU, 0, y, x, bias)
		}
	})
	b.Run("ActivateBackward-relu-128x256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ActivateBackward(ActReLU, 0, x, y, y, bias)
		}
	})
	logits, grad, labels := make([]float32, 128*10), make([]float32, 128*10), make([]int, 128)
	b.Run("SoftmaxCrossEntropy-128x10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			SoftmaxCrossEntropy(grad, logits, labels, 10)
		}
	})
	np := 784*256 + 256
	u, m, v, g, th := make([]float32, np), make([]float32, np), make([]float32, np), make([]float32, np), make([]float32, np)
	b.Run("AdamDirection-200960", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			AdamDirection(u, m, v, g, th, AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 3, GradScale: 1, Mult: 1})
		}
	})
}

// randF32 returns n uniform values in [0, 1).
func randF32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}
