package dist

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// Comm is a communicator over Size processes, numbered 0 … Size−1. Every
// collective (Barrier, Broadcast*, Sum*) must be called by all processes in
// the same order with slices of the same length; it returns when this
// process's part is complete. A Comm is not safe for concurrent use.
type Comm interface {
	// Rank returns this process's number in [0, Size).
	Rank() int
	// Size returns the number of processes.
	Size() int
	// Barrier returns once every process has entered it.
	Barrier() error
	// BroadcastFloat64 copies root's buf into buf on every other process.
	BroadcastFloat64(buf []float64, root int) error
	// SumFloat32 replaces buf, on every process, by the element-wise sum of
	// all processes' buf (an in-place all-reduce).
	SumFloat32(buf []float32) error
	// SumFloat64 is SumFloat32 for float64.
	SumFloat64(buf []float64) error
	// Close ends this process's use of the communicator: MPI_Finalize, or
	// MPI_Abort of the whole job after a timeout or an error. Call it once,
	// at the end of the program; no collective may follow.
	Close() error
}

// Sum is the in-place all-reduce (sum) of buf for either element type,
// float32 or float64 (or a type defined on one of them): SumFloat32 or
// SumFloat64 on the same memory.
func Sum[T ~float32 | ~float64](c Comm, buf []T) error {
	p := unsafe.Pointer(unsafe.SliceData(buf))
	if unsafe.Sizeof(T(0)) == 4 {
		return c.SumFloat32(unsafe.Slice((*float32)(p), len(buf)))
	}
	return c.SumFloat64(unsafe.Slice((*float64)(p), len(buf)))
}

// ErrTimeout is returned (wrapped) by a collective that did not complete
// within Options.Timeout: another rank died, was stopped, or is stuck.
var ErrTimeout = errors.New("dist: a collective timed out")

// DefaultTimeout is the deadline of a collective when Options.Timeout is 0:
// long enough for a rank that writes a large checkpoint while the others
// wait at the next collective, short enough that a dead rank ends the job
// within half a minute.
const DefaultTimeout = 20 * time.Second

// Options configure Open.
type Options struct {
	// Timeout bounds every collective (default DefaultTimeout). A
	// collective that waits longer fails with ErrTimeout.
	Timeout time.Duration
}

// Kinds lists the values Open accepts.
func Kinds() []string { return []string{"none", "mpi"} }

// Open returns the communicator kind names: "" or "none" gives Local; "mpi"
// initializes MPI (once per process; later calls return the same world
// communicator, and the latest call's Timeout applies to it) and gives
// MPI_COMM_WORLD. In a binary built without the mpi
// build tag, "mpi" is an error saying how to rebuild.
func Open(kind string, opts Options) (Comm, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	switch kind {
	case "", "none":
		return Local{}, nil
	case "mpi":
		return openMPI(opts)
	}
	return nil, fmt.Errorf("dist: unknown --dist %q; valid: none, mpi", kind)
}

// Local is the communicator of a single process: rank 0 of 1. Its
// collectives return at once and leave their buffers unchanged, which is
// what a sum or a broadcast over one process is.
type Local struct{}

var _ Comm = Local{}

// Rank returns 0.
func (Local) Rank() int { return 0 }

// Size returns 1.
func (Local) Size() int { return 1 }

// Barrier returns nil at once.
func (Local) Barrier() error { return nil }

// BroadcastFloat64 leaves buf unchanged; root must be 0.
func (Local) BroadcastFloat64(buf []float64, root int) error { return checkRoot(root, 1) }

// SumFloat32 leaves buf unchanged (a sum over one process).
func (Local) SumFloat32([]float32) error { return nil }

// SumFloat64 leaves buf unchanged (a sum over one process).
func (Local) SumFloat64([]float64) error { return nil }

// Close does nothing.
func (Local) Close() error { return nil }

func checkRoot(root, size int) error {
	if root < 0 || root >= size {
		return fmt.Errorf("dist: broadcast root %d outside the %d ranks [0, %d)", root, size, size)
	}
	return nil
}

// Active reports whether this process opened MPI (Open("mpi", …) succeeded).
func Active() bool { return worldRank() >= 0 }

// WorldRank returns this process's rank in MPI_COMM_WORLD once MPI is open,
// and 0 otherwise (the one rank of an ordinary run).
func WorldRank() int { return max(worldRank(), 0) }

// Finalize ends this process's use of MPI, if it opened it: MPI_Finalize,
// or, when abort is set or a collective failed, MPI_Abort of the whole job
// (which does not return). Without MPI it does nothing. Call it once, at the
// end of the program.
func Finalize(abort bool) error { return finalizeMPI(abort) }
