package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/genopt/gen/internal/atomicfile"
)

// prevSuffix names the checkpoint a Save replaced: DIR's previous version
// is kept as ".DIR.prev" beside it until the next Save.
const prevSuffix = ".prev"

// readAttempts bounds how often readVerified reads a checkpoint that a
// concurrent Save replaced while it was being read.
const readAttempts = 5

// errNoExchange says that the platform cannot swap two directories
// atomically.
var errNoExchange = errors.New("atomic exchange of directories not supported")

// swap is exchange, a variable so that tests can take the fallback path
// of platforms without it.
var swap = exchange

// previousPath returns where Save keeps the checkpoint it replaced in dir.
func previousPath(dir string) string {
	parent, base := filepath.Split(filepath.Clean(dir))
	return filepath.Join(parent, "."+base+prevSuffix)
}

// isLeftover reports whether name, an entry beside the checkpoint directory
// base, is what an interrupted Save leaves: ".BASE.tmp-…" or ".BASE.old-…".
func isLeftover(name, base string) bool {
	return strings.HasPrefix(name, "."+base+".tmp-") || strings.HasPrefix(name, "."+base+".old-")
}

// publish makes the complete checkpoint in tmp the checkpoint dir and keeps
// the one it replaces as previousPath(dir), dropping the one kept before.
// On Linux the swap is one atomic exchange, so dir always names a complete
// checkpoint; elsewhere it takes two renames (dir aside, tmp in), and a
// crash between them leaves dir missing with the previous checkpoint
// beside it, which Recover puts back.
func publish(tmp, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	prev := previousPath(dir)
	if err := os.RemoveAll(prev); err != nil {
		return err
	}
	err := swap(tmp, dir)
	if err == nil {
		// tmp now holds the previous checkpoint. Failing to keep it loses
		// nothing the new one does not hold.
		if os.Rename(tmp, prev) != nil {
			os.RemoveAll(tmp)
		}
		return nil
	}
	if !errors.Is(err, errNoExchange) {
		return err
	}
	if err := os.Rename(dir, prev); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(prev, dir) // put the previous checkpoint back
		return err
	}
	return nil
}

// Previous returns the manifest of the checkpoint that the last Save into
// dir replaced, which Save keeps beside dir (as ".DIR.prev") until the next
// Save. The error wraps ErrIncomplete or fs.ErrNotExist when there is none
// or it is not complete.
func Previous(dir string) (Manifest, error) {
	return ReadManifest(previousPath(dir))
}

// Rollback replaces the checkpoint in dir by the previous one (see
// Previous) and discards dir's: for a checkpoint found to be bad after it
// was saved, such as one whose weights give a non-finite loss. It returns
// the manifest of the checkpoint now in dir and true, or false when there
// was no complete previous checkpoint, in which case dir is removed. The
// replacement is atomic on Linux, as in Save. Only the process that saves
// into dir may call it.
func Rollback(dir string) (Manifest, bool, error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	prev := previousPath(dir)
	m, perr := ReadManifest(prev)
	if perr != nil {
		// Move dir out of sight in one rename, then delete it.
		gone := prev + ".tmp-rollback"
		if err := os.RemoveAll(gone); err != nil {
			return Manifest{}, false, fmt.Errorf("checkpoint: rollback %s: %w", dir, err)
		}
		if err := os.Rename(dir, gone); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Manifest{}, false, fmt.Errorf("checkpoint: rollback %s: %w", dir, err)
		}
		if err := os.RemoveAll(gone); err != nil {
			return Manifest{}, false, fmt.Errorf("checkpoint: rollback %s: %w", dir, err)
		}
		os.RemoveAll(prev)
		return Manifest{}, false, atomicfile.SyncDir(parent)
	}
	err := swap(prev, dir)
	if errors.Is(err, errNoExchange) {
		bad := prev + ".tmp-rollback"
		if err = os.Rename(dir, bad); err == nil {
			err = os.Rename(prev, dir)
			prev = bad
		}
	}
	if err != nil {
		return Manifest{}, false, fmt.Errorf("checkpoint: rollback %s: %w", dir, err)
	}
	if err := os.RemoveAll(prev); err != nil { // now the bad checkpoint
		return Manifest{}, false, fmt.Errorf("checkpoint: rollback %s: %w", dir, err)
	}
	return m, true, atomicfile.SyncDir(parent)
}

// Clean removes what interrupted Saves left beside dir — hidden
// ".DIR.tmp-…" and ".DIR.old-…" directories — after Recover has put a
// complete one back where dir was missing. It keeps the previous
// checkpoint (".DIR.prev"). Only the process that saves into dir may call
// it (a concurrent Save's temporary directory would go too); it returns
// the names it removed.
func Clean(dir string) ([]string, error) {
	dir = filepath.Clean(dir)
	if _, err := Recover(dir); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: clean %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		if !isLeftover(e.Name(), base) && e.Name() != "."+base+prevSuffix+".tmp-rollback" {
			continue
		}
		p := filepath.Join(parent, e.Name())
		if err := os.RemoveAll(p); err != nil {
			return removed, fmt.Errorf("checkpoint: clean %s: %w", dir, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// readError is a checkpoint that failed verification; id is the directory
// that was read, so a reader can tell whether it was replaced meanwhile.
type readError struct {
	dir, msg string
	id       os.FileInfo
	// gone: a file the read needed had vanished from the directory it had
	// opened. A published checkpoint is never changed in place, so its
	// directory was replaced and then removed (as the previous one, by the
	// next Save); its inode number may already serve the new checkpoint,
	// so comparing identities cannot tell.
	gone bool
}

func (e *readError) Error() string {
	return fmt.Sprintf("checkpoint: %s: %s: %v", e.dir, e.msg, ErrIncomplete)
}

func (e *readError) Unwrap() error { return ErrIncomplete }

// replacedDuringRead reports whether a failed read of dir may have met a
// concurrent Save, so that reading again can succeed: the directory read
// is no longer the one at dir, or dir is missing while a checkpoint waits
// beside it (the gap between the two renames where no exchange exists).
func replacedDuringRead(dir string, err error) bool {
	var re *readError
	if errors.As(err, &re) {
		cur, serr := os.Stat(dir)
		return re.gone || serr != nil || re.id == nil || !os.SameFile(cur, re.id)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	entries, rerr := os.ReadDir(parent)
	if rerr != nil {
		return false
	}
	for _, e := range entries {
		if isLeftover(e.Name(), base) || e.Name() == "."+base+prevSuffix {
			return true
		}
	}
	return false
}
