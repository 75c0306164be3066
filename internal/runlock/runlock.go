// Package runlock gives one process at a time a run directory: an OS
// file lock on DIR/.lock, released when the process exits however it
// exits, that a second process finds taken and names the holder of.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file inside a run directory. It holds the process
// id of the holder, followed by a newline.
const FileName = ".lock"

// ErrLocked is wrapped by the error of Acquire when another process holds
// the directory.
var ErrLocked = errors.New("the run directory is in use by another process")

// Lock is a held run-directory lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire locks the directory dir (which must exist) for this process, or
// returns an error wrapping ErrLocked that names the process holding it.
// On Linux and the BSDs the lock is flock(2) on DIR/.lock: the kernel
// drops it when the process ends, even by SIGKILL, and a stale file is
// harmless. Elsewhere the lock is the exclusive creation of DIR/.lock,
// which a crash leaves behind; the error then says to remove it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := lockFile(path)
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("%s is in use by %s%s: %w; wait for it to finish, or stop it (gen writes a checkpoint on SIGINT or SIGTERM)", dir, holder(path), staleHint(path), ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		unlockFile(f, path)
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the directory up. It is safe to call on a nil Lock and
// more than once.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	unlockFile(l.f, l.path)
	l.f = nil
}

// holder describes the process named in the lock file at path.
func holder(path string) string {
	b, err := os.ReadFile(path)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil || pid <= 0 {
		return "another process"
	}
	return fmt.Sprintf("process %d", pid)
}
