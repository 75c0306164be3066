// Package dist is the small communicator the trainer needs to run one
// training job over several processes (data parallelism): the rank of this
// process, the number of processes, a barrier, a broadcast, and an in-place
// all-reduce (sum) of float32 and float64 slices.
//
// Two implementations stand behind the Comm interface:
//
//   - Local, the single process of an ordinary run: rank 0 of 1; every
//     collective is the identity. It is pure Go and always built.
//   - The MPI world communicator (MPI_COMM_WORLD), a thin cgo binding of
//     OpenMPI built only with the build tag mpi (go build -tags mpi) and
//     opened by Open("mpi", …). The default build has no cgo and no MPI;
//     there Open("mpi", …) returns an error that says how to rebuild.
//
// Failures are errors, never hangs: the MPI binding installs
// MPI_ERRORS_RETURN, so a failed call returns its MPI error string, and it
// runs every collective as a non-blocking call polled against a deadline
// (Options.Timeout), so a rank that died or stopped makes the others return
// ErrTimeout instead of waiting forever. After a timeout the communicator is
// broken: further calls fail at once, and Close aborts the whole job
// (MPI_Abort) rather than finalizing, since a finalize would wait for the
// missing rank.
//
// The packages below train — ad, nn, optim, the rules — never see a rank:
// train reduces the gradient before the optimizer runs and reduces the
// line's losses before a rule reads them.
package dist
