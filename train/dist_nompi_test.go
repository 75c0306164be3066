//go:build !mpi

package train

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistWithoutMPI: the default build refuses --dist mpi before it
// creates the run directory, and says how to rebuild.
func TestDistWithoutMPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), Config{Data: "synthetic", Steps: 1, Dist: "mpi"}, dir, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "-tags mpi") {
		t.Fatalf("--dist mpi without MPI: got %v, want an error that says to build with -tags mpi", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the refused run left %s behind (%v)", dir, err)
	}
	if _, err := Run(context.Background(), Config{Data: "synthetic", Steps: 1, Dist: "tcp"}, dir, Hooks{}); err == nil || !strings.Contains(err.Error(), "--dist") {
		t.Fatalf("--dist tcp: got %v, want an error naming --dist", err)
	}
}
