package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/genopt/gen/internal/atomicfile"
)

// Replacing a file: a reader sees the old content or the new one, never a mix.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "summary.json")
	atomicfile.Write(p, []byte(`{"steps": 1}`))
	atomicfile.Write(p, []byte(`{"steps": 2}`))
	b, _ := os.ReadFile(p)
	fmt.Println(string(b))
	// Output: {"steps": 2}
}
