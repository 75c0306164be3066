//go:build !mpi

package dist

import "fmt"

// openMPI fails in the default build, which has no cgo and no MPI.
func openMPI(Options) (Comm, error) {
	return nil, fmt.Errorf("dist: this gen binary was built without MPI; rebuild it with OpenMPI installed " +
		"(apt-get install openmpi-bin libopenmpi-dev) and go build -tags mpi ./cmd/gen, then run it under mpirun")
}

func worldRank() int { return -1 }

func finalizeMPI(bool) error { return nil }
