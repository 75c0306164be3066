package kernel

// Ranger is work over the indices [0, n) that can be cut into contiguous
// parts run on different threads; see ParallelFor.
type Ranger interface {
	// Range does the work of the indices [lo, hi) as part number part
	// (0 ≤ part < the parts ParallelFor chose), so that each part can use
	// scratch of its own.
	Range(part, lo, hi int)
}

// ParallelFor runs r.Range over [0, n) cut into at most min(maxParts,
// Threads(), n) contiguous parts of nearly equal length (the first parts one
// index longer), the first on the calling goroutine and the others on the
// GEMM pool's workers, and returns when all are done. With one part it calls
// r.Range(0, 0, n) directly. It allocates nothing.
//
// The parts must be independent: the split depends on the thread count, so
// a caller that wants the same result for every thread count must not let
// the order of its arithmetic depend on where the cuts fall (for example,
// reduce per-index partial results in index order afterwards). Inside
// r.Range, call GemmOneThread, not Gemm: a GEMM split over the pool from a
// pool worker could wait forever for a worker that is itself waiting.
func ParallelFor(n, maxParts int, r Ranger) {
	parts := min(maxParts, Threads(), n)
	if parts <= 1 {
		if n > 0 {
			r.Range(0, 0, n)
		}
		return
	}
	set := rangeFree.get()
	lo := 0
	for t := range parts {
		cnt := n / parts
		if t < n%parts {
			cnt++
		}
		set.jobs[t] = rangeJob{r: r, part: t, lo: lo, hi: lo + cnt, shares: &set.shares}
		lo += cnt
		if t > 0 {
			set.shares.add(1)
			submit(&set.jobs[t], parts-1)
		}
	}
	r.Range(0, set.jobs[0].lo, set.jobs[0].hi)
	set.shares.wait()
	set.jobs = [maxThreads]rangeJob{} // drop the references to r
	rangeFree.put(set)
}

// rangeJob is one part of a ParallelFor.
type rangeJob struct {
	r            Ranger
	part, lo, hi int
	shares       *latch
}

func (j *rangeJob) run() {
	j.r.Range(j.part, j.lo, j.hi)
	j.shares.done()
}

// rangeSet holds the jobs of one ParallelFor call; sets are recycled so
// that a call allocates nothing in steady state.
type rangeSet struct {
	jobs   [maxThreads]rangeJob
	shares latch
}

var rangeFree = freeList[rangeSet]{list: make(chan *rangeSet, 4)}

// GemmOneThread computes the same product as Gemm on the calling goroutine
// alone, whatever Threads() says, for work that ParallelFor already spreads
// over the threads. Its result is bit-for-bit that of Gemm (whose result does
// not depend on the thread count). In a build with the openblas tag it calls
// OpenBLAS, like Gemm.
func GemmOneThread[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmOn(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
