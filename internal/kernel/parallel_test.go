package kernel

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// countRanges records, for every index, how often a Range call covered it,
// and the largest part number seen.
type countRanges struct {
	mu      sync.Mutex
	hits    []int
	maxPart int
	a, b    []float32
	c       [][]float32 // one output per index: a GEMM inside the parts
}

func (r *countRanges) Range(part, lo, hi int) {
	for i := lo; i < hi; i++ {
		GemmOneThread(false, false, 40, 50, 30, 1, r.a, 30, r.b, 50, 0, r.c[i], 50)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maxPart = max(r.maxPart, part)
	for i := lo; i < hi; i++ {
		r.hits[i]++
	}
}

// TestParallelFor: every index is covered exactly once, part numbers stay
// below min(maxParts, threads, n), and GEMMs inside the parts give Gemm's
// bits.
func TestParallelFor(t *testing.T) {
	defer SetThreads(0)
	a, b := make([]float32, 40*30), make([]float32, 30*50)
	for i := range a {
		a[i] = float32(i%7) - 3.5
	}
	for i := range b {
		b[i] = float32(i%5) * 0.25
	}
	want := make([]float32, 40*50)
	Gemm(false, false, 40, 50, 30, 1, a, 30, b, 50, 0, want, 50)
	for _, c := range []struct{ n, maxParts, threads int }{
		{0, 4, 4}, {1, 4, 4}, {7, 4, 2}, {7, 2, 4}, {5, 8, 8}, {13, 3, 3},
	} {
		t.Run(fmt.Sprintf("n=%d/max=%d/threads=%d", c.n, c.maxParts, c.threads), func(t *testing.T) {
			SetThreads(c.threads)
			r := &countRanges{hits: make([]int, c.n), a: a, b: b}
			for range c.n {
				r.c = append(r.c, make([]float32, 40*50))
			}
			ParallelFor(c.n, c.maxParts, r)
			for i, h := range r.hits {
				if h != 1 {
					t.Errorf("index %d covered %d times, want once", i, h)
				}
			}
			if limit := min(c.maxParts, c.threads, max(c.n, 1)); r.maxPart >= limit {
				t.Errorf("part %d seen, want < %d", r.maxPart, limit)
			}
			for i, got := range r.c {
				if !slices.Equal(got, want) {
					t.Errorf("index %d: GemmOneThread differs from Gemm", i)
				}
			}
		})
	}
	SetThreads(2)
	r := &countRanges{hits: make([]int, 64), a: a, b: b}
	for range 64 {
		r.c = append(r.c, make([]float32, 40*50))
	}
	if n := testing.AllocsPerRun(10, func() { ParallelFor(64, 2, r) }); n != 0 {
		t.Errorf("ParallelFor allocates %v times per call, want 0", n)
	}
}
