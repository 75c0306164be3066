package data

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/internal/kernel"
)

// tinySet returns a dense classification set of n examples with two
// features (i, −i) and label i mod 3, so each row names its example.
func tinySet(n int) *Set {
	s := &Set{Name: "tiny", Shape: []int{2}, Classes: 3, ClassNames: []string{"a", "b", "c"}}
	for i := range n {
		s.X = append(s.X, float32(i), float32(-i))
		s.Labels = append(s.Labels, i%3)
	}
	return s
}

func TestPermutation(t *testing.T) {
	p := make([]int, 100)
	q := make([]int, 100)
	Permutation(p, 7, 3)
	sorted := slices.Sorted(slices.Values(p))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("Permutation(100) sorted is %v, want 0…99", sorted)
		}
	}
	Permutation(q, 7, 3)
	if !slices.Equal(p, q) {
		t.Error("the same (seed, epoch) gave different permutations")
	}
	Permutation(q, 7, 4)
	if slices.Equal(p, q) {
		t.Error("epochs 3 and 4 gave the same permutation")
	}
	Permutation(q, 8, 3)
	if slices.Equal(p, q) {
		t.Error("seeds 7 and 8 gave the same permutation")
	}
}

// TestPermutationUniform counts the 6 permutations of 3 elements over 6000
// epochs: each should appear 1000 times; the count is binomial with sd
// √(6000·(1/6)·(5/6)) ≈ 28.9, and 5 sd is allowed. A biased bounded draw or
// an off-by-one in the shuffle would skew or empty some cells.
func TestPermutationUniform(t *testing.T) {
	counts := map[[3]int]int{}
	p := make([]int, 3)
	for e := range 6000 {
		Permutation(p, 42, e)
		counts[[3]int(p)]++
	}
	if len(counts) != 6 {
		t.Fatalf("saw %d distinct permutations of 3, want 6: %v", len(counts), counts)
	}
	sd := math.Sqrt(6000.0 / 6 * 5 / 6)
	for perm, c := range counts {
		if math.Abs(float64(c)-1000) > 5*sd {
			t.Errorf("permutation %v appeared %d times in 6000, want 1000 ± %.0f", perm, c, 5*sd)
		}
	}
}

func TestLoaderEpochs(t *testing.T) {
	tests := []struct {
		n, m     int
		dropLast bool
		sizes    []int // batch sizes in one epoch
	}{
		{10, 4, false, []int{4, 4, 2}},
		{10, 4, true, []int{4, 4}},
		{8, 4, false, []int{4, 4}},
		{8, 4, true, []int{4, 4}},
		{3, 5, false, []int{3}},
		{7, 1, true, []int{1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		l := NewLoader(tinySet(tc.n), LoaderOptions{BatchSize: tc.m, Seed: 1, DropLast: tc.dropLast})
		if l.BatchesPerEpoch() != len(tc.sizes) {
			t.Errorf("n %d m %d dropLast %v: BatchesPerEpoch %d, want %d", tc.n, tc.m, tc.dropLast, l.BatchesPerEpoch(), len(tc.sizes))
		}
		var orders [][]int
		for e := range 3 {
			var seen []int
			for b, size := range tc.sizes {
				pos := l.Position()
				if pos.Epoch != e || pos.Index != b*tc.m {
					t.Fatalf("n %d m %d: before batch %d of epoch %d, Position %+v", tc.n, tc.m, b, e, pos)
				}
				peek := slices.Clone(l.Peek())
				next := l.Next()
				if len(next) != size || !slices.Equal(peek, next) {
					t.Fatalf("n %d m %d: batch %d of epoch %d: peek %v next %v, want equal, of size %d", tc.n, tc.m, b, e, peek, next, size)
				}
				seen = append(seen, next...)
			}
			if p := l.Position(); p != (Position{e + 1, 0}) {
				t.Fatalf("n %d m %d: after epoch %d, Position %+v, want {%d 0}", tc.n, tc.m, e, p, e+1)
			}
			// Without DropLast an epoch visits every example once; with it,
			// a subset of distinct examples.
			sorted := slices.Sorted(slices.Values(seen))
			if len(slices.Compact(slices.Clone(sorted))) != len(sorted) || !tc.dropLast && len(sorted) != tc.n {
				t.Fatalf("n %d m %d: epoch %d visited %v", tc.n, tc.m, e, sorted)
			}
			orders = append(orders, seen)
		}
		if tc.n > 3 && slices.Equal(orders[0], orders[1]) && slices.Equal(orders[1], orders[2]) {
			t.Errorf("n %d m %d: three epochs in the same order %v", tc.n, tc.m, orders[0])
		}
	}
}

func TestLoaderOrdered(t *testing.T) {
	l := NewLoader(tinySet(5), LoaderOptions{BatchSize: 2, Ordered: true})
	var got []int
	for range 6 {
		got = append(got, l.Next()...)
	}
	if want := []int{0, 1, 2, 3, 4, 0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("ordered batches %v, want %v", got, want)
	}
}

// TestLoaderResume checks that a loader that Seeks to any saved position
// yields the same batches as one that ran without interruption.
func TestLoaderResume(t *testing.T) {
	for _, dropLast := range []bool{false, true} {
		opts := LoaderOptions{BatchSize: 3, Seed: 99, DropLast: dropLast}
		set := tinySet(11)
		ref := NewLoader(set, opts)
		var positions []Position
		var batches [][]int
		for range 20 { // about 5 epochs
			positions = append(positions, ref.Position())
			batches = append(batches, slices.Clone(ref.Next()))
		}
		for cut := range batches {
			l := NewLoader(set, opts)
			l.Next() // move away from the start, so that Seek must do the work
			if err := l.Seek(positions[cut]); err != nil {
				t.Fatal(err)
			}
			for k := cut; k < len(batches); k++ {
				if got := l.Next(); !slices.Equal(got, batches[k]) {
					t.Fatalf("dropLast %v: resumed at %+v, batch %d is %v, want %v", dropLast, positions[cut], k, got, batches[k])
				}
			}
		}
		// The end of an epoch and the start of the next are the same place.
		l := NewLoader(set, opts)
		if err := l.Seek(Position{2, 11}); err != nil {
			t.Fatal(err)
		}
		first := slices.Clone(l.Next())
		if err := l.Seek(Position{3, 0}); err != nil {
			t.Fatal(err)
		}
		if got := l.Next(); !slices.Equal(got, first) {
			t.Errorf("Seek{2, 11} then Next gave %v, Seek{3, 0} %v; want equal", first, got)
		}
	}
	l := NewLoader(tinySet(4), LoaderOptions{BatchSize: 2})
	for _, p := range []Position{{-1, 0}, {0, -1}, {0, 5}} {
		if err := l.Seek(p); err == nil || !strings.Contains(err.Error(), "cannot seek") {
			t.Errorf("Seek(%+v): error %v, want cannot seek", p, err)
		}
	}
}

func TestNewLoaderPanics(t *testing.T) {
	tests := []struct {
		name string
		set  *Set
		opts LoaderOptions
	}{
		{"empty set", tinySet(0), LoaderOptions{}},
		{"negative batch", tinySet(3), LoaderOptions{BatchSize: -1}},
		{"drop-last leaves nothing", tinySet(3), LoaderOptions{BatchSize: 4, DropLast: true}},
	}
	for _, tc := range tests {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "data: NewLoader") {
					t.Errorf("%s: recovered %v, want a data: NewLoader panic", tc.name, r)
				}
			}()
			NewLoader(tc.set, tc.opts)
		}()
	}
}

func TestFillBatch(t *testing.T) {
	set := tinySet(6)
	var b32 Batch[float32]
	var b64 Batch[float64]
	idx := []int{4, 0, 5}
	FillBatch(&b32, set, idx)
	FillBatch(&b64, set, idx)
	if want := []float32{4, -4, 0, 0, 5, -5}; !slices.Equal(b32.X.Data(), want) || !slices.Equal(b32.X.Shape(), []int{3, 2}) {
		t.Errorf("float32 X %v, want %v of shape [3 2]", b32.X, want)
	}
	if want := []float64{4, -4, 0, 0, 5, -5}; !slices.Equal(b64.X.Data(), want) {
		t.Errorf("float64 X %v, want %v", b64.X, want)
	}
	if !slices.Equal(b32.Labels, []int{1, 0, 2}) || b32.Y != nil || b32.Tokens != nil || !slices.Equal(b32.Index, idx) || b32.Len() != 3 {
		t.Errorf("labels %v Y %v tokens %v index %v, want [1 0 2], nil, nil, %v", b32.Labels, b32.Y, b32.Tokens, b32.Index, idx)
	}

	reg, _, _ := Synthetic(SyntheticOptions{Samples: 5, Test: 1, Inputs: 2, Outputs: 3})
	FillRange(&b64, reg.Train, 1, 3)
	if !slices.Equal(b64.Y.Shape(), []int{2, 3}) || b64.Y.Data()[5] != float64(reg.Train.Y[2*3+2]) || b64.Labels != nil || b64.X.Data()[0] != float64(reg.Train.X[2]) {
		t.Errorf("regression batch: Y %v labels %v, want rows 1 and 2 of Y and no labels", b64.Y, b64.Labels)
	}
	for _, bad := range [][]int{{6}, {-1}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "data: FillBatch") {
					t.Errorf("FillBatch(%v): recovered %v, want a data: FillBatch panic", bad, r)
				}
			}()
			FillBatch(&b32, set, bad)
		}()
	}
}

// TestBatchesDoNotAllocate checks the steady state of the training loop:
// once the buffers have their size, Peek+Next batches allocate nothing,
// across epoch boundaries too (AllocsPerRun averages over 50 runs = 100
// batches, several epochs of each set).
func TestBatchesDoNotAllocate(t *testing.T) {
	text, err := TextFromString("t", strings.Repeat("the quick brown fox jumps over the lazy dog. ", 20), TextOptions{Context: 8, OneHot: true})
	if err != nil {
		t.Fatal(err)
	}
	reg, _, _ := Synthetic(SyntheticOptions{Samples: 100})
	for _, set := range []*Set{tinySet(100), reg.Train, text.Train} {
		// DropLast keeps M fixed; a partial last batch would change the
		// shape, which costs a few bytes twice an epoch.
		l := NewLoader(set, LoaderOptions{BatchSize: 16, Seed: 3, DropLast: true})
		var b Batch[float32]
		NextBatch(l, &b) // the first full batch sizes the buffers
		allocs := testing.AllocsPerRun(50, func() {
			PeekBatch(l, &b)
			NextBatch(l, &b)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Peek+Next, want 0", set.Name, allocs)
		}
	}
}

func BenchmarkNextBatch(b *testing.B) {
	// An MNIST-sized row (784 features) and a batch of 128, in float32 and
	// float64: the cost of copying 100 352 values per batch.
	set := &Set{Name: "bench", Shape: []int{1, 28, 28}, X: make([]float32, 2048*784), Labels: make([]int, 2048), Classes: 10,
		ClassNames: make([]string, 10)}
	b.Run("float32", func(b *testing.B) {
		l := NewLoader(set, LoaderOptions{BatchSize: 128})
		var batch Batch[float32]
		b.ReportAllocs()
		for b.Loop() {
			NextBatch(l, &batch)
		}
	})
	b.Run("float64", func(b *testing.B) {
		l := NewLoader(set, LoaderOptions{BatchSize: 128})
		var batch Batch[float64]
		b.ReportAllocs()
		for b.Loop() {
			NextBatch(l, &batch)
		}
	})
}

// TestFillBatchLargeRowsInParallel: a batch large enough to be gathered on
// several threads holds, row by row, exactly the examples of its index, at
// 1 and 3 threads.
func TestFillBatchLargeRowsInParallel(t *testing.T) {
	const n, f = 300, 1000 // a batch of 100 rows: 100 000 elements ≥ parallelRows
	set := &Set{Name: "wide", Shape: []int{f}, X: make([]float32, n*f), Labels: make([]int, n), Classes: 2}
	for i := range set.X {
		set.X[i] = float32(i)
	}
	idx := make([]int, 100)
	for k := range idx {
		idx[k] = (k * 37) % n
	}
	defer kernel.SetThreads(0)
	for _, threads := range []int{1, 3} {
		kernel.SetThreads(threads)
		var b Batch[float32]
		FillBatch(&b, set, idx)
		x := b.X.Data()
		for k, i := range idx {
			for j := range f {
				if x[k*f+j] != float32(i*f+j) {
					t.Fatalf("%d threads: row %d (example %d), column %d: %v, want %v", threads, k, i, j, x[k*f+j], float32(i*f+j))
				}
			}
		}
	}
}
