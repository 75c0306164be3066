package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/genopt/gen/internal/kernel/openblas"
)

// maxThreads bounds SetThreads; more would not help a GEMM of the sizes this
// project trains with and would only grow the pool.
const maxThreads = 64

// threadSetting is the value last given to SetThreads; 0 means "use
// GOMAXPROCS". It is the package's one piece of mutable state besides the
// worker pool and the buffer free lists, all safe for concurrent use.
var threadSetting atomic.Int64

// SetThreads sets how many threads (the calling goroutine plus workers of a
// persistent pool) one GEMM call may use. n ≤ 0 restores the default,
// runtime.GOMAXPROCS(0) at the time of each call; n is capped at 64.
//
// Results do not depend on the setting: every element of C is summed in the
// same order whatever the split (see Gemm), so a run is bit-for-bit
// repeatable across thread counts. Calls may come from several goroutines;
// the setting applies to GEMM calls that start after it.
//
// In a build with the openblas tag the setting is passed on to OpenBLAS too.
func SetThreads(n int) {
	threadSetting.Store(int64(min(max(n, 0), maxThreads)))
	if openblas.Available {
		openblas.SetThreads(Threads())
	}
}

// Threads returns the number of threads a GEMM call may use now: the value
// given to SetThreads, or runtime.GOMAXPROCS(0) capped at 64 when unset.
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return min(runtime.GOMAXPROCS(0), maxThreads)
}

// parallelMinFlops is the size (2·m·n·k floating-point operations) below
// which a GEMM stays on the calling goroutine: under it, handing work to a
// worker costs more than it saves. 128³ (4.2 MFLOP) loses with two threads
// even in OpenBLAS (PERF.md); 256³ (34 MFLOP) gains.
const parallelMinFlops = 6e6

// runner is a unit of work for the pool.
type runner interface{ run() }

// workers is the persistent pool: goroutines started on first use that
// wait for work on one channel and live as long as the process.
var workers struct {
	mu      sync.Mutex
	started int
	queue   chan runner
}

// submit hands r to a pool worker, first making sure that at least need
// workers exist (need < maxThreads). It never runs r on the calling
// goroutine.
func submit(r runner, need int) {
	workers.mu.Lock()
	if workers.queue == nil {
		workers.queue = make(chan runner, maxThreads)
	}
	for workers.started < need {
		go worker(workers.queue)
		workers.started++
	}
	q := workers.queue
	workers.mu.Unlock()
	q <- r
}

// worker runs the pool's work items. Between items it polls the queue for
// a while (spinPolls, about half a millisecond, yielding to other
// goroutines every 64 polls) before it blocks: a GEMM step hands out a
// share every few hundred microseconds, and waking a parked thread costs
// tens of microseconds, which on the MLP's 0.2 ms products took all the
// gain of a second thread (measured: BenchmarkGemmThreads).
func worker(q chan runner) {
	for {
		r := poll(q)
		r.run()
	}
}

// poll receives from q, spinning before it blocks.
func poll(q chan runner) runner {
	for i := 0; i < spinPolls; i++ {
		select {
		case r := <-q:
			return r
		default:
		}
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	return <-q
}

// spinPolls bounds the polls of a waiting worker or caller before it blocks.
const spinPolls = 20000

// latch counts the shares of a call still running on workers; the caller
// waits for them spinning first, as the workers do, then blocking.
type latch struct {
	n  atomic.Int32
	wg sync.WaitGroup
}

// add announces k more shares.
func (l *latch) add(k int) {
	l.n.Add(int32(k))
	l.wg.Add(k)
}

// done marks one share finished.
func (l *latch) done() {
	l.n.Add(-1)
	l.wg.Done()
}

// wait returns when every announced share is done.
func (l *latch) wait() {
	for i := 0; i < spinPolls && l.n.Load() != 0; i++ {
		if i%64 == 63 {
			runtime.Gosched()
		}
	}
	l.wg.Wait()
}
