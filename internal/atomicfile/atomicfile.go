// Package atomicfile writes files so that a crash never leaves one half
// written: the one place the project's packages (checkpoint, plot, train)
// do it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to path so that path holds either its old content or
// all of data, never a part: it writes a temporary file in the same
// directory, fsyncs it, renames it over path, and fsyncs the directory so
// the rename survives a crash. The file gets mode 0644. The error is the
// operating system's, for the caller to wrap. An error before the rename
// leaves path untouched and removes the temporary file. An error from the
// final directory fsync comes after the rename: path then already holds
// data, but the rename may not survive a crash (path may revert to its old
// content, or vanish if it did not exist); write again to be sure.
func Write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the directory dir, making renames and creations in it
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
