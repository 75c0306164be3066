//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package runlock

import (
	"errors"
	"io/fs"
	"os"
)

// lockFile creates path exclusively: the lock is the file's existence.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, ErrLocked
	}
	return f, err
}

// unlockFile removes the lock file.
func unlockFile(f *os.File, path string) {
	f.Close()
	os.Remove(path)
}

// staleHint tells how to clear a lock that a crashed process left.
func staleHint(path string) string {
	return " (if no such process runs, it crashed: remove " + path + ")"
}
