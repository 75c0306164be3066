// Command benchgemm prints the GEMM speed table of docs/perf.md: GFLOP/s of
// kernel.GemmGo and, when built with the openblas tag, of OpenBLAS, for the
// shapes of PERF.md on 1 and 2 threads, with the ratio ours/OpenBLAS.
//
// Run it through scripts/bench-gemm, which builds it with the openblas tag
// when libopenblas-dev is installed.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/internal/kernel/openblas"
)

// shape is one row of the table: C (m×n) = op(A) (m×k) · op(B) (k×n).
type shape struct {
	name           string
	m, k, n        int
	transA, transB bool
}

var shapes = []shape{
	{"128×128×128", 128, 128, 128, false, false},
	{"256×256×256", 256, 256, 256, false, false},
	{"512×512×512", 512, 512, 512, false, false},
	{"1024×1024×1024", 1024, 1024, 1024, false, false},
	{"MLP fwd X·W 128×784×256", 128, 784, 256, false, false},
	{"MLP dW Xᵀ·dY 784×128×256", 784, 128, 256, true, false},
	{"MLP dX dY·Wᵀ 128×256×784", 128, 256, 784, false, true},
	{"output 128×256×10", 128, 256, 10, false, false},
	{"proj 1024×128×384", 1024, 128, 384, false, false},
	{"attn QKᵀ 128×32×128", 128, 32, 128, false, true},
	{"im2col 25088×288×64", 25088, 288, 64, false, false},
}

func main() {
	threadList := flag.String("threads", "1,2", "comma-separated thread counts")
	prec := flag.String("prec", "float32", "float32 or float64")
	minTime := flag.Duration("time", 300*time.Millisecond, "measuring time per cell (best of 3 runs of this length/3)")
	only := flag.String("only", "", "run only shapes whose name contains this")
	flag.Parse()
	var threads []int
	for _, f := range strings.Split(*threadList, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			fmt.Fprintf(os.Stderr, "benchgemm: -threads: %q is not a positive integer\n", f)
			os.Exit(2)
		}
		threads = append(threads, t)
	}
	switch *prec {
	case "float32":
		run[float32](threads, *minTime, *only)
	case "float64":
		run[float64](threads, *minTime, *only)
	default:
		fmt.Fprintf(os.Stderr, "benchgemm: -prec: want float32 or float64, got %q\n", *prec)
		os.Exit(2)
	}
}

func run[T float32 | float64](threads []int, minTime time.Duration, only string) {
	fmt.Printf("%s GEMM, GFLOP/s (best of 3), shape m×k×n\n\n", fmt.Sprintf("%T", T(0)))
	fmt.Printf("| shape | threads | ours | OpenBLAS | ours/OpenBLAS |\n|---|---|---|---|---|\n")
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		if only != "" && !strings.Contains(s.name, only) {
			continue
		}
		a, b, c := randSlice[T](r, s.m*s.k), randSlice[T](r, s.k*s.n), make([]T, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		for _, th := range threads {
			kernel.SetThreads(th)
			ours := measure(s, minTime, func() {
				kernel.GemmGo(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
			})
			blas, ratio := "—", "—"
			if openblas.Available {
				openblas.SetThreads(th)
				g := measure(s, minTime, func() {
					var z T
					if _, ok := any(z).(float32); ok {
						openblas.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, any(a).([]float32), lda, any(b).([]float32), ldb, 0, any(c).([]float32), s.n)
					} else {
						openblas.Dgemm(s.transA, s.transB, s.m, s.n, s.k, 1, any(a).([]float64), lda, any(b).([]float64), ldb, 0, any(c).([]float64), s.n)
					}
				})
				blas, ratio = fmt.Sprintf("%.1f", g), fmt.Sprintf("%.2f", ours/g)
			}
			fmt.Printf("| %s | %d | %.1f | %s | %s |\n", s.name, th, ours, blas, ratio)
		}
	}
	kernel.SetThreads(0)
}

// measure returns the best GFLOP/s of three timed batches of f, each batch
// long enough to last about minTime/3.
func measure(s shape, minTime time.Duration, f func()) float64 {
	f() // warm the caches, the buffer pool and the workers
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	start, reps := time.Now(), 0
	for time.Since(start) < minTime/6 {
		f()
		reps++
	}
	per := time.Since(start) / time.Duration(reps)
	batch := max(1, int(minTime/3/max(per, 1)))
	best := 0.0
	for range 3 {
		t0 := time.Now()
		for range batch {
			f()
		}
		best = max(best, flop*float64(batch)/time.Since(t0).Seconds()/1e9)
	}
	return best
}

func randSlice[T float32 | float64](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}
