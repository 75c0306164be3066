//go:build mpi

package dist

/*
#cgo pkg-config: ompi-c
#include <mpi.h>

// The MPI handles (MPI_COMM_WORLD, MPI_FLOAT, …) are macros over OpenMPI's
// globals; these helpers keep them on the C side.

static int gen_init(int *rank, int *size, int *provided) {
	int inited = 0, rc;
	MPI_Initialized(&inited);
	if (!inited) {
		rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
		if (rc != MPI_SUCCESS) return rc;
	} else {
		MPI_Query_thread(provided);
	}
	rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}

static int gen_ibarrier(MPI_Request *req) { return MPI_Ibarrier(MPI_COMM_WORLD, req); }

static int gen_ibcast_f64(double *buf, int n, int root, MPI_Request *req) {
	return MPI_Ibcast(buf, n, MPI_DOUBLE, root, MPI_COMM_WORLD, req);
}

static int gen_isum_f32(float *buf, int n, MPI_Request *req) {
	return MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, req);
}

static int gen_isum_f64(double *buf, int n, MPI_Request *req) {
	return MPI_Iallreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, req);
}

static int gen_test(MPI_Request *req, int *done) { return MPI_Test(req, done, MPI_STATUS_IGNORE); }

static void gen_error_string(int code, char *buf, int *len) { MPI_Error_string(code, buf, len); }

static int gen_finalize(void) { return MPI_Finalize(); }

static int gen_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// world is MPI_COMM_WORLD. MPI is initialized once per process, so there is
// one world; Open hands out the same value every time.
type world struct {
	rank, size int
	timeout    time.Duration
	broken     error // the first failure; after it every call fails and Close aborts
	closed     bool
}

var _ Comm = (*world)(nil)

// The MPI library is process-wide state: it is initialized at most once.
var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

func openMPI(opts Options) (Comm, error) {
	worldOnce.Do(func() {
		var rank, size, provided C.int
		if rc := C.gen_init(&rank, &size, &provided); rc != C.MPI_SUCCESS {
			worldErr = fmt.Errorf("dist: MPI_Init: %s; is this process started by mpirun or srun?", errorString(rc))
			return
		}
		// Calls come from whichever OS thread runs the goroutine, one at a
		// time: MPI_THREAD_SERIALIZED is the level that allows it.
		if provided < C.MPI_THREAD_SERIALIZED {
			worldErr = fmt.Errorf("dist: the MPI library provides thread level %d, below MPI_THREAD_SERIALIZED; use an OpenMPI built with thread support", int(provided))
			return
		}
		theWorld = &world{rank: int(rank), size: int(size)}
	})
	if worldErr != nil {
		return nil, worldErr
	}
	theWorld.timeout = opts.Timeout
	return theWorld, nil
}

func errorString(rc C.int) string {
	var buf [C.MPI_MAX_ERROR_STRING]C.char
	var n C.int
	C.gen_error_string(rc, &buf[0], &n)
	return fmt.Sprintf("%s (MPI error %d)", C.GoStringN(&buf[0], n), int(rc))
}

func (w *world) Rank() int { return w.rank }
func (w *world) Size() int { return w.size }

// start checks the communicator can still be used and that n elements fit
// MPI's int count.
func (w *world) start(what string, n int) error {
	switch {
	case w.closed:
		return fmt.Errorf("dist: %s after Close", what)
	case w.broken != nil:
		return fmt.Errorf("dist: %s: the communicator failed earlier: %w", what, w.broken)
	case n > math.MaxInt32:
		return fmt.Errorf("dist: %s of %d elements: more than MPI's limit of %d per call", what, n, math.MaxInt32)
	}
	return nil
}

// wait polls req until it completes, an MPI error, or the timeout.
// OpenMPI advances a non-blocking collective only inside MPI calls, so for
// the first millisecond the loop polls without pause, as a blocking MPI call
// spins (an all-reduce of 0.8 MB between two processes of one machine takes
// about 0.25 ms that way, and 1.5–3 ms when every poll is followed by a
// sleep). A longer wait means another rank is still computing: the loop then
// sleeps between polls (10 µs, doubling to 100 µs), leaving the CPU to it.
func (w *world) wait(what string, rc C.int, req *C.MPI_Request) error {
	if rc != C.MPI_SUCCESS {
		w.broken = fmt.Errorf("dist: %s on rank %d: %s", what, w.rank, errorString(rc))
		return w.broken
	}
	const spin = time.Millisecond
	start := time.Now()
	pause := 10 * time.Microsecond
	for i := 1; ; i++ {
		var done C.int
		if rc := C.gen_test(req, &done); rc != C.MPI_SUCCESS {
			w.broken = fmt.Errorf("dist: %s on rank %d: %s", what, w.rank, errorString(rc))
			return w.broken
		}
		if done != 0 {
			return nil
		}
		if i%64 != 0 {
			continue
		}
		waited := time.Since(start)
		switch {
		case waited > w.timeout:
			w.broken = fmt.Errorf("%w: %s on rank %d of %d waited %v (the limit) for the other ranks: one died, was stopped, or is stuck",
				ErrTimeout, what, w.rank, w.size, waited.Round(time.Millisecond))
			return w.broken
		case waited > spin:
			time.Sleep(pause)
			pause = min(2*pause, 100*time.Microsecond)
		}
	}
}

func (w *world) Barrier() error {
	if err := w.start("barrier", 0); err != nil {
		return err
	}
	var req C.MPI_Request
	return w.wait("barrier", C.gen_ibarrier(&req), &req)
}

func (w *world) BroadcastFloat64(buf []float64, root int) error {
	if err := checkRoot(root, w.size); err != nil {
		return err
	}
	if err := w.start("broadcast", len(buf)); err != nil || len(buf) == 0 {
		return err
	}
	// MPI keeps the buffer's address until the request completes: pin it.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&buf[0])
	var req C.MPI_Request
	return w.wait("broadcast", C.gen_ibcast_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(len(buf)), C.int(root), &req), &req)
}

func (w *world) SumFloat32(buf []float32) error {
	if err := w.start("all-reduce", len(buf)); err != nil || len(buf) == 0 {
		return err
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&buf[0])
	var req C.MPI_Request
	return w.wait("all-reduce", C.gen_isum_f32((*C.float)(unsafe.Pointer(&buf[0])), C.int(len(buf)), &req), &req)
}

func (w *world) SumFloat64(buf []float64) error {
	if err := w.start("all-reduce", len(buf)); err != nil || len(buf) == 0 {
		return err
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&buf[0])
	var req C.MPI_Request
	return w.wait("all-reduce", C.gen_isum_f64((*C.double)(unsafe.Pointer(&buf[0])), C.int(len(buf)), &req), &req)
}

func worldRank() int {
	if theWorld == nil {
		return -1
	}
	return theWorld.rank
}

func finalizeMPI(abort bool) error {
	if theWorld == nil {
		return nil
	}
	if abort && theWorld.broken == nil {
		theWorld.broken = errors.New("dist: the job was aborted")
	}
	return theWorld.Close()
}

// Close finalizes MPI, or, after a failure, aborts the whole job: a
// finalize would wait for the rank that is missing.
func (w *world) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.broken != nil {
		C.gen_abort(1) // does not return when it succeeds
		return w.broken
	}
	if rc := C.gen_finalize(); rc != C.MPI_SUCCESS {
		return fmt.Errorf("dist: MPI_Finalize: %s", errorString(rc))
	}
	return nil
}
