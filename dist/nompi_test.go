//go:build !mpi

package dist

import (
	"strings"
	"testing"
)

func TestOpenMPIWithoutTag(t *testing.T) {
	_, err := Open("mpi", Options{})
	if err == nil || !strings.Contains(err.Error(), "-tags mpi") {
		t.Fatalf("Open(mpi) in the default build: got %v, want an error that says to rebuild with -tags mpi", err)
	}
}
