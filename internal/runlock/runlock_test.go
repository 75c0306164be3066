package runlock

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestSecondAcquireNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(dir)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if want := fmt.Sprintf("process %d", os.Getpid()); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the directory and %s", err, want)
	}
	l.Release()
	l.Release() // twice is harmless
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestAcquireMissingDirectory(t *testing.T) {
	_, err := Acquire(t.TempDir() + "/absent")
	if err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire of a missing directory: %v, want an error other than ErrLocked", err)
	}
}
