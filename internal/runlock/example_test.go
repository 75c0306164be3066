package runlock_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/genopt/gen/internal/runlock"
)

func Example() {
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	lock, err := runlock.Acquire(dir)
	if err != nil {
		panic(err)
	}
	_, err = runlock.Acquire(dir) // as a second process would
	fmt.Println("second owner refused:", errors.Is(err, runlock.ErrLocked))
	lock.Release()
	again, err := runlock.Acquire(dir)
	fmt.Println("free after Release:", err == nil)
	again.Release()
	// Output:
	// second owner refused: true
	// free after Release: true
}
