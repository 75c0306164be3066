package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"

	"github.com/genopt/gen/internal/atomicfile"
)

// The files of a checkpoint directory.
const (
	WeightsFile   = "weights.safetensors"
	OptimizerFile = "optimizer.json"
	RuleFile      = "rule.json"
	ManifestFile  = "manifest.json"
)

// FormatVersion is the checkpoint layout version recorded in manifests.
// ReadManifest refuses other versions.
const FormatVersion = 1

// modulePath is this module's path, looked up in the build information to
// record which version of the library wrote a checkpoint.
const modulePath = "github.com/genopt/gen"

// ErrIncomplete is wrapped by the errors of ReadManifest, Load and Latest
// for a checkpoint that must be treated as absent: no manifest, a manifest
// that does not parse or has another format version, or a listed file that
// is missing or whose size or SHA-256 differs from the manifest.
var ErrIncomplete = errors.New("checkpoint incomplete or corrupted")

// ErrNotFound is wrapped by the error of Latest when a directory holds no
// complete checkpoint. It also matches fs.ErrNotExist.
var ErrNotFound = fmt.Errorf("no complete checkpoint: %w", fs.ErrNotExist)

// Manifest describes a complete checkpoint. It is written last; its list of
// files with sizes and SHA-256 digests is what makes a checkpoint complete.
type Manifest struct {
	// Format is the layout version, FormatVersion.
	Format int `json:"format"`
	// Step is the number of optimizer steps taken when the state was saved.
	Step int64 `json:"step"`
	// Time is when Save wrote the checkpoint (UTC).
	Time time.Time `json:"time"`
	// GoVersion is runtime.Version() of the writing program.
	GoVersion string `json:"go_version"`
	// Program and ProgramVersion are the main module of the writing program
	// and its version ("(devel)" for a build from a working tree), and
	// Module the version of this library within it; from
	// runtime/debug.ReadBuildInfo, empty where unavailable.
	Program        string `json:"program,omitempty"`
	ProgramVersion string `json:"program_version,omitempty"`
	Module         string `json:"module_version,omitempty"`
	// Revision is the VCS revision the program was built from, when the
	// build recorded one ("vcs.revision"), with "+dirty" for a modified tree.
	Revision string `json:"vcs_revision,omitempty"`
	// Config is the run's configuration as the caller gave it (State.Config),
	// as JSON; absent if none.
	Config json.RawMessage `json:"config,omitempty"`
	// Files lists every other file of the checkpoint.
	Files []FileSum `json:"files"`
}

// FileSum records one file of a checkpoint: its name within the directory,
// its size in bytes and the hex SHA-256 of its content.
type FileSum struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// State is what a checkpoint holds. For Save every field is read; for Load,
// Params receive the weights and the non-nil pointers Optimizer, Rule and
// Config receive their JSON (a nil one is skipped).
type State[T tensor.Float] struct {
	// Step is the number of optimizer steps taken.
	Step int64
	// Params are the model parameters, stored by name in weights.safetensors.
	Params []*ad.Var[T]
	// Meta is stored as the safetensors "__metadata__" (for example the
	// architecture, for tools that read the weights alone); nil for none.
	Meta map[string]string
	// Optimizer is the optimizer state, marshalled to optimizer.json with
	// encoding/json; nil for none (the file is not written).
	Optimizer any
	// Rule is the learning-rate-rule state, marshalled to rule.json; nil
	// for none.
	Rule any
	// Config is the run configuration, marshalled into the manifest; nil
	// for none.
	Config any
}

// Save writes s as a checkpoint directory dir, replacing a previous
// checkpoint there, with the protocol of the package comment: everything is
// written and fsynced under a temporary name beside dir, the manifest last,
// and the directory is swapped into place in one atomic step (on Linux;
// two renames elsewhere). The checkpoint it replaces is kept beside dir
// (".DIR.prev", see Previous and Rollback) until the next Save. Parent
// directories are created. One process at a time may save into dir;
// any number may read it meanwhile.
//
// It returns an error, and leaves dir as it was, if a parameter name is
// empty or repeated, a state does not marshal to JSON, the disk fails, or
// dir exists and is neither empty nor a checkpoint (it has no
// manifest.json) — Save refuses to delete a directory it did not write.
func Save[T tensor.Float](dir string, s State[T]) (err error) {
	dir = filepath.Clean(dir)
	type file struct {
		name string
		data []byte
	}
	weights, err := encodeWeights(s.Params, s.Meta)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: weights: %w", dir, err)
	}
	files := []file{{WeightsFile, weights}}
	for _, j := range []struct {
		name string
		v    any
	}{{OptimizerFile, s.Optimizer}, {RuleFile, s.Rule}} {
		if j.v == nil {
			continue
		}
		data, err := marshalJSON(j.v)
		if err != nil {
			return fmt.Errorf("checkpoint: save %s: %s: %w", dir, j.name, err)
		}
		files = append(files, file{j.name, data})
	}
	m := newManifest(s.Step)
	if s.Config != nil {
		if m.Config, err = json.Marshal(s.Config); err != nil {
			return fmt.Errorf("checkpoint: save %s: config: %w", dir, err)
		}
	}
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, FileSum{Name: f.name, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	manifest, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: manifest: %w", dir, err)
	}

	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
			err = fmt.Errorf("checkpoint: save %s: %w", dir, err)
		}
	}()
	if err = os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err = writeSynced(filepath.Join(tmp, f.name), f.data); err != nil {
			return err
		}
	}
	if err = writeSynced(filepath.Join(tmp, ManifestFile), manifest); err != nil {
		return err
	}
	if err = atomicfile.SyncDir(tmp); err != nil {
		return err
	}

	if err = publish(tmp, dir); err != nil {
		return err
	}
	return atomicfile.SyncDir(parent)
}

// checkReplaceable returns an error if dir exists and is neither an empty
// directory nor a checkpoint.
func checkReplaceable(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("checkpoint: save %s: exists and is not a directory; choose another path", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("checkpoint: save %s: %w", dir, err)
	}
	if len(ents) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("checkpoint: save %s: the directory exists, is not empty and has no %s; refusing to replace it, choose another path or remove it", dir, ManifestFile)
	}
	return nil
}

// writeSynced creates path with data and fsyncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// newManifest fills the version fields of a manifest for step.
func newManifest(step int64) Manifest {
	m := Manifest{Format: FormatVersion, Step: step, Time: time.Now().UTC(), GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return m
	}
	m.Program, m.ProgramVersion = bi.Main.Path, bi.Main.Version
	if bi.Main.Path == modulePath {
		m.Module = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			m.Module = d.Version
		}
	}
	var dirty bool
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			m.Revision = kv.Value
		case "vcs.modified":
			dirty = kv.Value == "true"
		}
	}
	if dirty && m.Revision != "" {
		m.Revision += "+dirty"
	}
	return m
}

// ReadManifest reads the manifest of the checkpoint in dir and verifies that
// the checkpoint is complete: the manifest parses, has FormatVersion and
// lists weights.safetensors, and every listed file exists with the recorded
// size and SHA-256. A failure wraps ErrIncomplete (and fs.ErrNotExist if dir
// itself does not exist); such a checkpoint should be treated as absent.
func ReadManifest(dir string) (Manifest, error) {
	m, _, err := readVerified(dir, false)
	return m, err
}

// readVerified implements ReadManifest; with keep it also returns the
// verified contents of the listed files by name, so Load parses exactly the
// bytes it checked.
func readVerified(dir string, keep bool) (Manifest, map[string][]byte, error) {
	for attempt := 1; ; attempt++ {
		m, contents, err := readOnce(dir, keep)
		if err == nil || attempt == readAttempts || !replacedDuringRead(dir, err) {
			return m, contents, err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

// readOnce reads and verifies the checkpoint in dir once, every file
// through one handle on the directory, so that a concurrent Save, which
// replaces the directory as a whole, cannot mix two checkpoints.
func readOnce(dir string, keep bool) (Manifest, map[string][]byte, error) {
	var m Manifest
	root, err := os.OpenRoot(dir)
	if err != nil {
		return m, nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer root.Close()
	fail := func(format string, a ...any) (Manifest, map[string][]byte, error) {
		id, _ := root.Stat(".")
		return Manifest{}, nil, &readError{dir: dir, id: id, msg: fmt.Sprintf(format, a...)}
	}
	// missing reports a file that vanished from the opened directory.
	missing := func(err error) (Manifest, map[string][]byte, error) {
		m, c, rerr := fail("%v", err)
		rerr.(*readError).gone = errors.Is(err, fs.ErrNotExist)
		return m, c, rerr
	}
	data, err := root.ReadFile(ManifestFile)
	if err != nil {
		return missing(err)
	}
	if err := unmarshalJSON(data, &m); err != nil {
		return fail("%s: %v", ManifestFile, err)
	}
	if m.Format != FormatVersion {
		return fail("%s: format version %d, this package reads %d", ManifestFile, m.Format, FormatVersion)
	}
	contents := make(map[string][]byte)
	hasWeights := false
	for _, f := range m.Files {
		if f.Name != filepath.Base(f.Name) || f.Name == ManifestFile || f.Name == "." || f.Name == ".." {
			return fail("%s: invalid file name %q", ManifestFile, f.Name)
		}
		if _, dup := contents[f.Name]; dup {
			return fail("%s: %s listed twice", ManifestFile, f.Name)
		}
		info, err := root.Stat(f.Name)
		if err != nil {
			return missing(err)
		}
		if info.Size() != f.Size {
			return fail("%s: %d bytes, the manifest records %d", f.Name, info.Size(), f.Size)
		}
		b, err := root.ReadFile(f.Name)
		if err != nil {
			return missing(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			return fail("%s: SHA-256 %s, the manifest records %s", f.Name, got, f.SHA256)
		}
		if keep {
			contents[f.Name] = b
		} else {
			contents[f.Name] = nil
		}
		hasWeights = hasWeights || f.Name == WeightsFile
	}
	if !hasWeights {
		return fail("%s does not list %s", ManifestFile, WeightsFile)
	}
	return m, contents, nil
}

// Load reads the checkpoint in dir into s after verifying it as
// ReadManifest does: the weights into s.Params (as LoadWeights: names and
// shapes must match, F32 widens to float64), and optimizer.json, rule.json
// and the manifest's configuration into s.Optimizer, s.Rule and s.Config
// when those are non-nil pointers. It sets s.Step and s.Meta and returns the
// manifest. A field of a JSON file that the target type lacks is an error.
// If anything fails, the error names the file and the problem; parameters
// are only written once the weights file has passed every check, but
// s.Optimizer, s.Rule and s.Config may have been partly written.
func Load[T tensor.Float](dir string, s *State[T]) (Manifest, error) {
	m, contents, err := readVerified(dir, true)
	if err != nil {
		return m, err
	}
	meta, err := decodeWeights(contents[WeightsFile], s.Params)
	if err != nil {
		return m, fmt.Errorf("checkpoint: %s: %w", filepath.Join(dir, WeightsFile), err)
	}
	s.Meta = meta
	for _, j := range []struct {
		name string
		v    any
	}{{OptimizerFile, s.Optimizer}, {RuleFile, s.Rule}} {
		if j.v == nil {
			continue
		}
		data, ok := contents[j.name]
		if !ok {
			return m, fmt.Errorf("checkpoint: %s: the checkpoint has no %s; it was saved without that state", dir, j.name)
		}
		if err := unmarshalJSON(data, j.v); err != nil {
			return m, fmt.Errorf("checkpoint: %s: %w", filepath.Join(dir, j.name), err)
		}
	}
	if s.Config != nil {
		if m.Config == nil {
			return m, fmt.Errorf("checkpoint: %s: the manifest has no config", dir)
		}
		if err := unmarshalJSON(m.Config, s.Config); err != nil {
			return m, fmt.Errorf("checkpoint: %s: config: %w", filepath.Join(dir, ManifestFile), err)
		}
	}
	s.Step = m.Step
	return m, nil
}

// Latest returns the subdirectory of root holding the complete checkpoint
// (as ReadManifest verifies it) with the largest Step, and its manifest;
// ties go to the later name in lexical order. Hidden entries (names
// starting with ".", which include Save's temporary directories) and
// incomplete checkpoints are skipped. If there is none, the error wraps
// ErrNotFound.
func Latest(root string) (string, Manifest, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return "", Manifest{}, fmt.Errorf("checkpoint: %w", err)
	}
	best, bestM := "", Manifest{}
	for _, e := range ents { // ReadDir sorts by name
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		m, err := ReadManifest(dir)
		if err != nil {
			continue
		}
		if best == "" || m.Step >= bestM.Step {
			best, bestM = dir, m
		}
	}
	if best == "" {
		return "", Manifest{}, fmt.Errorf("checkpoint: %s: %w", root, ErrNotFound)
	}
	return best, bestM, nil
}

// Recover repairs the one state a crash inside Save (or Rollback) can
// leave: dir missing while a complete checkpoint waits beside it under a
// hidden name — the previous one moved aside (".DIR.prev", or ".DIR.old-…"
// as older versions named it) or the new one not yet renamed in
// (".DIR.tmp-…"). It renames the complete candidate with the highest step
// (verified as ReadManifest does) to dir and reports whether it did. When
// dir exists, or nothing complete is found, it changes nothing.
func Recover(dir string) (bool, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return false, nil
	}
	best, bestStep := "", int64(-1)
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !isLeftover(name, base) && name != "."+base+prevSuffix {
			continue
		}
		cand := filepath.Join(parent, name)
		m, err := ReadManifest(cand)
		if err != nil {
			continue
		}
		if m.Step > bestStep {
			best, bestStep = cand, m.Step
		}
	}
	if best == "" {
		return false, nil
	}
	if err := os.Rename(best, dir); err != nil {
		return false, fmt.Errorf("checkpoint: recover %s from %s: %w", dir, best, err)
	}
	if err := atomicfile.SyncDir(parent); err != nil {
		return true, fmt.Errorf("checkpoint: recover %s: %w", dir, err)
	}
	return true, nil
}
