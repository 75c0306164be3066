//go:build mpi

// These tests run under mpirun (mpirun -np 2 dist.test); started alone, MPI
// makes a world of one rank and they check that case.
package dist

import (
	"fmt"
	"os"
	"testing"
	"time"
)

var comm Comm

func TestMain(m *testing.M) {
	c, err := Open("mpi", Options{Timeout: 30 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	comm = c
	code := m.Run()
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// TestRanks: the ranks are 0 … size−1, each once: their sum over the world
// is size(size−1)/2 and the sum of ones is size.
func TestRanks(t *testing.T) {
	r, n := comm.Rank(), comm.Size()
	if r < 0 || r >= n {
		t.Fatalf("rank %d outside [0, %d)", r, n)
	}
	buf := []float64{float64(r), 1}
	if err := comm.SumFloat64(buf); err != nil {
		t.Fatal(err)
	}
	if want := float64(n*(n-1)) / 2; buf[0] != want || buf[1] != float64(n) {
		t.Fatalf("sum of ranks and of ones: got %v, want [%v %v]", buf, want, n)
	}
}

// TestSum: rank r contributes (r+1)·(i+1) at index i, so the sum is
// (i+1)·n(n+1)/2, exact in both precisions for these small integers. The
// length crosses OpenMPI's switch between its small- and large-message
// algorithms.
func TestSum(t *testing.T) {
	r, n := comm.Rank(), comm.Size()
	tri := n * (n + 1) / 2
	for _, size := range []int{0, 1, 7, 100_003} {
		f32 := make([]float32, size)
		f64 := make([]float64, size)
		for i := range f32 {
			f32[i] = float32((r + 1) * (i%1000 + 1))
			f64[i] = float64((r + 1) * (i + 1))
		}
		if err := Sum(comm, f32); err != nil {
			t.Fatal(err)
		}
		if err := Sum(comm, f64); err != nil {
			t.Fatal(err)
		}
		for i := range f32 {
			if want := float32((i%1000 + 1) * tri); f32[i] != want {
				t.Fatalf("float32, %d elements, rank %d: sum[%d] = %v, want %v", size, r, i, f32[i], want)
			}
			if want := float64((i + 1) * tri); f64[i] != want {
				t.Fatalf("float64, %d elements, rank %d: sum[%d] = %v, want %v", size, r, i, f64[i], want)
			}
		}
	}
}

// TestBroadcast: every rank ends with the last rank's values.
func TestBroadcast(t *testing.T) {
	r, n := comm.Rank(), comm.Size()
	buf := []float64{float64(r), float64(10 * r), -1}
	if err := comm.BroadcastFloat64(buf, n-1); err != nil {
		t.Fatal(err)
	}
	if want := []float64{float64(n - 1), float64(10 * (n - 1)), -1}; buf[0] != want[0] || buf[1] != want[1] || buf[2] != want[2] {
		t.Fatalf("rank %d after broadcast from %d: got %v, want %v", r, n-1, buf, want)
	}
	if err := comm.BroadcastFloat64(buf, n); err == nil {
		t.Fatalf("broadcast from root %d of %d ranks: want an error", n, n)
	}
}

// TestBarrier: a rank that arrives late holds the others at the barrier.
func TestBarrier(t *testing.T) {
	const late = 200 * time.Millisecond
	start := time.Now()
	if comm.Rank() == 0 {
		time.Sleep(late)
	}
	if err := comm.Barrier(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); comm.Size() > 1 && d < late {
		t.Fatalf("rank %d left the barrier after %v, before rank 0 arrived (%v)", comm.Rank(), d, late)
	}
}

// BenchmarkSum times the all-reduce of a float32 buffer the size of a
// model's flat gradient. Every rank must run the same number of
// iterations: run it with a fixed count,
//
//	mpirun -np 2 dist.test -test.run '^$' -test.bench Sum -test.benchtime 200x
func BenchmarkSum(b *testing.B) {
	for _, n := range []int{1 << 10, 203_533, 1 << 22} { // 203 533: the MNIST MLP 784-256-10 + 3
		b.Run(fmt.Sprintf("float32x%d", n), func(b *testing.B) {
			buf := make([]float32, n)
			b.SetBytes(int64(4 * n))
			b.ReportAllocs()
			for b.Loop() {
				if err := comm.SumFloat32(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
