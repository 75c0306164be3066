//go:build linux

package checkpoint

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange swaps the directories a and b in one atomic step
// (renameat2 with RENAME_EXCHANGE): a reader opening b sees either the old
// or the new directory, never none. It returns errNoExchange where the
// kernel or the file system cannot do it (Linux before 3.15, NFS, …).
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return errNoExchange
	}
	return err
}
