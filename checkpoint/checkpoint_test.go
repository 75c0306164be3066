package checkpoint

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

type adamState struct {
	Step int64       `json:"step"`
	M    [][]float64 `json:"m"`
	V    [][]float64 `json:"v"`
}

type ruleState struct {
	LR    float64 `json:"lr"`
	Count int     `json:"count"`
}

type runConfig struct {
	Optimizer string  `json:"optimizer"`
	Batch     int     `json:"batch"`
	Gamma     float64 `json:"gamma"`
}

func sampleState(step int64) State[float32] {
	return State[float32]{
		Step:      step,
		Params:    model([]float32{0.25, -1, 3, 0, -0.5}),
		Meta:      map[string]string{"arch": "mlp"},
		Optimizer: adamState{Step: step, M: [][]float64{{1, 2}}, V: [][]float64{{3}}},
		Rule:      ruleState{LR: 0.0125, Count: 7},
		Config:    runConfig{Optimizer: "adam", Batch: 64, Gamma: 0.9},
	}
}

func TestSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "step-10")
	src := sampleState(10)
	if err := Save(dir, src); err != nil {
		t.Fatal(err)
	}
	var opt adamState
	var rule ruleState
	var cfg runConfig
	dst := State[float32]{Params: zeroed(src.Params), Optimizer: &opt, Rule: &rule, Config: &cfg}
	m, err := Load(dir, &dst)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range src.Params {
		for j, v := range p.Value.Data() {
			if g := dst.Params[i].Value.Data()[j]; g != v {
				t.Errorf("%s[%d] = %v, want %v", p.Name, j, g, v)
			}
		}
	}
	if dst.Step != 10 || m.Step != 10 {
		t.Errorf("step: state %d, manifest %d, want 10", dst.Step, m.Step)
	}
	if dst.Meta["arch"] != "mlp" {
		t.Errorf("meta = %v", dst.Meta)
	}
	if opt.Step != 10 || opt.M[0][1] != 2 || opt.V[0][0] != 3 {
		t.Errorf("optimizer = %+v", opt)
	}
	if rule != src.Rule.(ruleState) {
		t.Errorf("rule = %+v, want %+v", rule, src.Rule)
	}
	if cfg != src.Config.(runConfig) {
		t.Errorf("config = %+v, want %+v", cfg, src.Config)
	}
	if m.Format != FormatVersion || m.GoVersion != runtime.Version() || m.Time.IsZero() {
		t.Errorf("manifest versions: %+v", m)
	}
	if len(m.Files) != 3 || m.Files[0].Name != WeightsFile || len(m.Files[0].SHA256) != 64 {
		t.Errorf("manifest files = %+v, want weights, optimizer and rule", m.Files)
	}
	ents, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("the parent holds %v, want only step-10 (no temporary directories)", ents)
	}
}

// TestLoadMissingState asks for state the checkpoint was saved without.
func TestLoadMissingState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	src := sampleState(1)
	src.Rule, src.Config = nil, nil
	if err := Save(dir, src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, RuleFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rule.json written for a nil rule")
	}
	var rule ruleState
	_, err := Load(dir, &State[float32]{Params: zeroed(src.Params), Rule: &rule})
	if err == nil || !strings.Contains(err.Error(), "no rule.json") {
		t.Errorf("got %v, want an error saying there is no rule.json", err)
	}
	var cfg runConfig
	_, err = Load(dir, &State[float32]{Params: zeroed(src.Params), Config: &cfg})
	if err == nil || !strings.Contains(err.Error(), "no config") {
		t.Errorf("got %v, want an error saying there is no config", err)
	}
	// A state type missing a field of the file is an error.
	var other struct{ LR float64 }
	src.Optimizer = ruleState{LR: 1, Count: 2}
	if err := Save(dir, src); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir, &State[float32]{Params: zeroed(src.Params), Optimizer: &other})
	if err == nil || !strings.Contains(err.Error(), "count") {
		t.Errorf("got %v, want an unknown-field error naming count", err)
	}
}

// TestCorrupted damages a saved checkpoint in the ways a crash or a disk can
// and checks that each is reported as incomplete.
func TestCorrupted(t *testing.T) {
	tests := []struct {
		name   string
		damage func(dir string) error
	}{
		{"no manifest", func(dir string) error { return os.Remove(filepath.Join(dir, ManifestFile)) }},
		{"truncated manifest", func(dir string) error { return truncate(filepath.Join(dir, ManifestFile), 20) }},
		{"truncated weights", func(dir string) error { return truncate(filepath.Join(dir, WeightsFile), 30) }},
		{"missing optimizer", func(dir string) error { return os.Remove(filepath.Join(dir, OptimizerFile)) }},
		{"flipped byte", func(dir string) error {
			path := filepath.Join(dir, WeightsFile)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b[len(b)-1] ^= 1
			return os.WriteFile(path, b, 0o644)
		}},
		{"other format version", func(dir string) error {
			return rewriteManifest(dir, func(m *Manifest) { m.Format = 99 })
		}},
		{"path in file name", func(dir string) error {
			return rewriteManifest(dir, func(m *Manifest) { m.Files[0].Name = "../x" })
		}},
		{"weights not listed", func(dir string) error {
			return rewriteManifest(dir, func(m *Manifest) { m.Files = m.Files[1:] })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ck")
			src := sampleState(3)
			if err := Save(dir, src); err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadManifest(dir); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), dir) {
				t.Errorf("ReadManifest: got %v, want ErrIncomplete naming %s", err, dir)
			}
			dst := State[float32]{Params: zeroed(src.Params)}
			if _, err := Load(dir, &dst); !errors.Is(err, ErrIncomplete) {
				t.Errorf("Load: got %v, want ErrIncomplete", err)
			}
			for _, p := range dst.Params {
				for _, v := range p.Value.Data() {
					if v != 0 {
						t.Fatalf("parameter %s written from an incomplete checkpoint", p.Name)
					}
				}
			}
		})
	}
}

func truncate(path string, n int64) error { return os.Truncate(path, n) }

func rewriteManifest(dir string, edit func(*Manifest)) error {
	path := filepath.Join(dir, ManifestFile)
	var m Manifest
	if err := ReadJSON(path, &m); err != nil {
		return err
	}
	edit(&m)
	return WriteJSON(path, m)
}

func TestMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	if _, err := ReadManifest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadManifest: got %v, want fs.ErrNotExist", err)
	}
	if _, _, err := Latest(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Latest: got %v, want fs.ErrNotExist", err)
	}
}

func TestReplace(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "latest")
	for step := int64(1); step <= 3; step++ {
		if err := Save(dir, sampleState(step)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := ReadManifest(dir)
	if err != nil || m.Step != 3 {
		t.Errorf("after three saves: step %d (%v), want 3", m.Step, err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 2 || ents[0].Name() != ".latest.prev" || ents[1].Name() != "latest" {
		t.Errorf("root holds %v, want latest and the previous checkpoint .latest.prev", ents)
	}
	if p, err := Previous(dir); err != nil || p.Step != 2 {
		t.Errorf("Previous: step %d (%v), want 2", p.Step, err)
	}

	// Save refuses to replace a directory that is not a checkpoint.
	other := filepath.Join(root, "data")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(other, sampleState(1)); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("Save over a non-checkpoint: got %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(other, "keep.txt")); err != nil {
		t.Errorf("the non-checkpoint directory was damaged: %v", err)
	}
	// A failed save (bad parameter names) leaves the previous checkpoint.
	bad := sampleState(9)
	bad.Params[1].Name = bad.Params[0].Name
	if err := Save(dir, bad); err == nil {
		t.Error("Save with duplicate names: no error")
	}
	if m, err := ReadManifest(dir); err != nil || m.Step != 3 {
		t.Errorf("after a failed save: step %d (%v), want 3", m.Step, err)
	}
}

// TestLatest builds the directory a crashed run leaves behind: complete
// checkpoints, an incomplete one without a manifest, a half-written
// temporary directory, and a stray file.
func TestLatest(t *testing.T) {
	root := t.TempDir()
	for _, s := range []struct {
		name string
		step int64
	}{{"a", 20}, {"b", 5}, {"c", 20}} {
		if err := Save(filepath.Join(root, s.name), sampleState(s.step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := Save(filepath.Join(root, "d"), sampleState(99)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "d", ManifestFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, ".e.tmp-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir, m, err := Latest(root)
	if err != nil || dir != filepath.Join(root, "c") || m.Step != 20 {
		t.Errorf("Latest = %s step %d (%v), want %s step 20", dir, m.Step, err, filepath.Join(root, "c"))
	}
	empty := t.TempDir()
	if _, _, err := Latest(empty); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest of an empty directory: got %v, want ErrNotFound", err)
	}
}

func TestJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	in := ruleState{LR: 0.1, Count: 3}
	if err := WriteJSON(path, in); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(path, ruleState{LR: 0.2, Count: 4}); err != nil { // overwrite
		t.Fatal(err)
	}
	var out ruleState
	if err := ReadJSON(path, &out); err != nil || out != (ruleState{LR: 0.2, Count: 4}) {
		t.Errorf("ReadJSON = %+v (%v)", out, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %v, want only state.json", ents)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", info.Mode(), err)
	}
	for _, tc := range []struct{ name, content, want string }{
		{"unknown field", `{"lr":1,"count":2,"extra":3}`, "extra"},
		{"trailing data", `{"lr":1} {}`, "after the document"},
		{"truncated", `{"lr":1`, "invalid JSON"},
	} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		err := ReadJSON(p, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming %s containing %q", tc.name, err, p, tc.want)
		}
	}
	if err := WriteJSON(path, func() {}); err == nil {
		t.Error("WriteJSON of a func: no error")
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "dir", "x"), nil); err == nil {
		t.Error("WriteFileAtomic into a missing directory: no error")
	}
	var v json.RawMessage
	if err := ReadJSON(filepath.Join(dir, "absent.json"), &v); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadJSON of a missing file: got %v, want fs.ErrNotExist", err)
	}
}

// TestFloat64Checkpoint saves float64 parameters and loads them back.
func TestFloat64Checkpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	params := []*ad.Var[float64]{ad.NewParam("w", tensor.FromSlice([]float64{1.0 / 3, -2e-300}, 2))}
	if err := Save(dir, State[float64]{Step: 1, Params: params}); err != nil {
		t.Fatal(err)
	}
	got := []*ad.Var[float64]{ad.NewParam("w", tensor.New[float64](2))}
	if _, err := Load(dir, &State[float64]{Params: got}); err != nil {
		t.Fatal(err)
	}
	if got[0].Value.At(0) != 1.0/3 || got[0].Value.At(1) != -2e-300 {
		t.Errorf("w = %v", got[0].Value)
	}
}

// A crash between Save's two renames leaves only ".DIR.old-…": Recover
// puts it back, and does nothing when the checkpoint is in place.
func TestRecoverAfterCrashBetweenRenames(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "checkpoint")
	params := []*ad.Var[float32]{ad.NewParam("w", tensor.FromSlice([]float32{1, 2}, 2))}
	if err := Save(dir, State[float32]{Step: 7, Params: params}); err != nil {
		t.Fatal(err)
	}
	if ok, err := Recover(dir); ok || err != nil {
		t.Fatalf("Recover on an intact checkpoint: %v, %v", ok, err)
	}
	// Simulate the crash: the first rename of a replacement happened, the
	// second did not.
	if err := os.Rename(dir, filepath.Join(root, ".checkpoint.old-123")); err != nil {
		t.Fatal(err)
	}
	ok, err := Recover(dir)
	if !ok || err != nil {
		t.Fatalf("Recover: %v, %v; want the moved-aside checkpoint back", ok, err)
	}
	m, err := ReadManifest(dir)
	if err != nil || m.Step != 7 {
		t.Fatalf("recovered checkpoint: step %d, %v", m.Step, err)
	}
}
