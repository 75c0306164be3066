package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genopt/gen/checkpoint"
	"github.com/genopt/gen/internal/runlock"
	"github.com/genopt/gen/nn"
)

// A directory that is not a run is refused before anything is written,
// and its files are untouched; so is one holding only a checkpoint/.
func TestRunRefusesADirectoryItDidNotMake(t *testing.T) {
	for _, files := range [][]string{{"metrics.csv", "summary.json", "loss.png"}, {"checkpoint/manifest.json"}} {
		dir := t.TempDir()
		for _, f := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
			if err := os.WriteFile(filepath.Join(dir, f), []byte("the user's "+f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		started := false
		_, err := Run(context.Background(), tiny(), dir, Hooks{Start: func(int, int) { started = true }})
		if err == nil || !strings.Contains(err.Error(), "not a gen run directory") {
			t.Fatalf("Run into a directory holding %v: %v, want a refusal", files, err)
		}
		if started {
			t.Error("the run started before refusing the directory")
		}
		for _, f := range files {
			if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != "the user's "+f {
				t.Errorf("%s changed to %q", f, b)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
			t.Error("config.json written into a refused directory")
		}
	}
}

// While a run owns its directory, a second process (here: a second Resume
// or an overwriting run) is refused with the holder's pid.
func TestRunDirectoryIsLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tiny()
	cfg.Steps = 6
	reached, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), cfg, dir, Hooks{Step: func(s StepRecord) {
			if s.Step == 3 {
				close(reached)
				<-release
			}
		}})
		done <- err
	}()
	<-reached
	pid := fmt.Sprintf("process %d", os.Getpid())
	_, err := Resume(context.Background(), dir, Hooks{})
	if !errors.Is(err, runlock.ErrLocked) || !strings.Contains(err.Error(), pid) {
		t.Errorf("Resume of a live run: %v, want ErrLocked naming %s", err, pid)
	}
	_, err = Start(context.Background(), cfg, dir, Options{Overwrite: true}, Hooks{})
	if !errors.Is(err, runlock.ErrLocked) {
		t.Errorf("overwriting a live run: %v, want ErrLocked", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rows := stepsOf(t, dir); len(rows) != 6 {
		t.Errorf("metrics hold %d rows, want 6", len(rows))
	}
	// Released on return: the run can be continued.
	if _, err := Resume(context.Background(), dir, Hooks{}); err != nil {
		t.Errorf("Resume after the run ended: %v", err)
	}
}

// A divergence before the first checkpoint says there is none (and gives
// no advice the run already follows); the directory is then restartable
// with Overwrite, and Resume says so.
func TestDivergenceWithoutCheckpointIsRestartable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tiny()
	cfg.LR, cfg.Opt, cfg.Steps = "const:1e8", "sgd", 50
	_, err := Run(context.Background(), cfg, dir, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "no checkpoint precedes it") || strings.Contains(err.Error(), "last good") {
		t.Fatalf("divergence before any checkpoint: %v", err)
	}
	_, err = Resume(context.Background(), dir, Hooks{})
	if err == nil || !strings.Contains(err.Error(), "holds no checkpoint") || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("Resume without a checkpoint: %v", err)
	}
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("a second Run into the directory: %v, want a refusal naming --overwrite", err)
	}
	if _, err := Start(context.Background(), tiny(), dir, Options{Overwrite: true}, Hooks{}); err != nil {
		t.Fatalf("Overwrite: %v", err)
	}
	if rows := stepsOf(t, dir); len(rows) != tiny().Steps {
		t.Errorf("after Overwrite the metrics hold %d rows, want %d", len(rows), tiny().Steps)
	}
	var got Config
	if err := checkpoint.ReadJSON(filepath.Join(dir, "config.json"), &got); err != nil || got.LR == "const:1e8" {
		t.Errorf("config.json after Overwrite: %+v, %v", got, err)
	}
}

func TestDivergenceAdviceMatchesTheConfiguration(t *testing.T) {
	for _, c := range []struct {
		lr, probe string
		fresh     bool
	}{{"gen", "fresh", false}, {"gen-trust:2", "same", true}, {"const:0.1", "same", false}} {
		r := &runner[float32]{cfg: Config{LR: c.lr, Probe: c.probe}, dir: "D", ckptStep: -1}
		msg := r.divergence("step 3: the training loss is NaN").Error()
		if strings.Contains(msg, "--probe fresh") != c.fresh {
			t.Errorf("--lr %s --probe %s: %q", c.lr, c.probe, msg)
		}
		if strings.Contains(msg, "last good") || !strings.Contains(msg, "--overwrite --out D") {
			t.Errorf("no checkpoint: %q", msg)
		}
	}
}

// When the weights of the newest checkpoint give a non-finite loss, the
// checkpoint left for resuming is the one before it, which did not.
func TestLastGoodCheckpointPrecedesTheDivergence(t *testing.T) {
	for _, saves := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(saves, " saves"), func(t *testing.T) {
			dir := t.TempDir()
			r := &runner[float32]{cfg: tiny().Defaults(), dir: dir, ckptStep: -1}
			if err := r.setup(); err != nil {
				t.Fatal(err)
			}
			r.log = &metricsLog{dir: dir}
			for i := range saves {
				// The third save is at the step of the second, as when a
				// run is interrupted right after a checkpoint.
				if i < 2 {
					if _, err := r.step(false); err != nil {
						t.Fatal(err)
					}
				}
				if err := r.save(); err != nil {
					t.Fatal(err)
				}
			}
			// Finite weights whose loss overflows.
			for _, v := range r.values {
				d := v.Data()
				for i := range d {
					d[i] = 3e38
				}
			}
			_, err := r.step(false)
			if err == nil {
				t.Fatal("a non-finite loss passed")
			}
			m, merr := checkpoint.ReadManifest(checkpointDir(dir))
			switch saves {
			case 1:
				if !errors.Is(merr, fs.ErrNotExist) || !strings.Contains(err.Error(), "no checkpoint precedes it") {
					t.Errorf("the only checkpoint gives the divergence: it should be gone (%v), and the message say so: %v", merr, err)
				}
			case 2, 3:
				if merr != nil || m.Step != 1 || !strings.Contains(err.Error(), "of step 1") {
					t.Errorf("checkpoint left at step %d (%v), message %v; want step 1", m.Step, merr, err)
				}
			}
		})
	}
}

func TestStepCountOverflowIsAnError(t *testing.T) {
	cfg := tiny()
	cfg.Steps, cfg.Epochs, cfg.Batch = 0, math.MaxInt, 1
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), cfg, dir, Hooks{}); err == nil || !strings.Contains(err.Error(), "--epochs") {
		t.Fatalf("--epochs MaxInt --batch 1: %v, want an overflow error", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused run left its directory: %v", err)
	}
	// Given an empty directory, it leaves it empty.
	empty := t.TempDir()
	if _, err := Run(context.Background(), cfg, empty, Hooks{}); err == nil {
		t.Fatal("the overflowing run passed")
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("a refused run left %v in the directory it was given", ents)
	}
}

// A run that took no step reports no losses (null), not 0.
func TestSummaryWithoutStepsHasNoLosses(t *testing.T) {
	r := &runner[float32]{cfg: tiny().Defaults(), ckptStep: -1}
	if err := r.setup(); err != nil {
		t.Fatal(err)
	}
	r.log = &metricsLog{}
	b, err := json.Marshal(r.summary())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"train_loss":null`) || !strings.Contains(string(b), `"test_loss":null`) {
		t.Errorf("summary without steps: %s", b)
	}
}

func TestInterruptedRunReturnsItsSummary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sum, err := Run(ctx, tiny(), t.TempDir(), Hooks{Step: func(s StepRecord) {
		if s.Step == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) || sum == nil || !sum.Interrupted || sum.Steps != 5 || math.IsNaN(float64(sum.TrainLoss)) {
		t.Fatalf("interrupted run: %+v, %v", sum, err)
	}
}

// Resume and a finished run remove what killed checkpoint saves left.
func TestLeftoversAreRemoved(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), tiny(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{".checkpoint.tmp-123", ".checkpoint.old-456"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	if _, err := Resume(context.Background(), dir, Hooks{}); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".checkpoint.tmp-") || strings.HasPrefix(e.Name(), ".checkpoint.old-") {
			t.Errorf("%s left in the run directory", e.Name())
		}
	}
}

// Sizes beyond the machine are refused with the estimate and the memory
// there is, before anything of that size is allocated (no makeslice
// panic, no out-of-memory crash).
func TestHugeModelsAreRefusedWithAnEstimate(t *testing.T) {
	for _, hidden := range [][]int{{1 << 62}, {1 << 40, 1 << 40}, {50_000_000}} {
		cfg := tiny()
		cfg.Hidden = hidden
		cfg.Data = "synthetic"
		if hidden[0] == 50_000_000 {
			if testing.Short() {
				continue // loading MNIST is slow under the race detector
			}
			cfg.Data = "mnist" // 39e9 parameters: about 1.2 TiB with Adam
		}
		r := &runner[float32]{cfg: cfg.Defaults(), ckptStep: -1}
		err := r.setup()
		if cfg.Data == "mnist" && err != nil && !strings.Contains(err.Error(), "GiB") {
			t.Skipf("MNIST unavailable: %v", err)
		}
		if err == nil || !strings.Contains(err.Error(), "GiB") || !strings.Contains(err.Error(), "parameters") {
			t.Errorf("--hidden %v: %v, want a refusal with the estimate", hidden, err)
		}
		if _, _, merr := machineMemory(); merr == nil && !strings.Contains(fmt.Sprint(err), "/proc/meminfo") {
			t.Errorf("--hidden %v: the message does not give the machine's memory: %v", hidden, err)
		}
	}
}

// The estimate's parameter count is the built model's, for each model.
func TestFootprintCountsTheParameters(t *testing.T) {
	for _, cfg := range []Config{
		{Data: "synthetic", Hidden: []int{7, 5}},
		{Data: "text", Model: "charmlp", Hidden: []int{9}},
		{Data: "mnist", Model: "cnn"},
	} {
		if cfg.Data == "mnist" && testing.Short() {
			continue
		}
		r := &runner[float32]{cfg: cfg.Defaults(), ckptStep: -1}
		if err := r.setup(); err != nil {
			if cfg.Data == "mnist" {
				t.Logf("skipping cnn: %v", err)
				continue
			}
			t.Fatal(err)
		}
		f := estimateFootprint(r.cfg, r.split.Train, r.task, 4)
		if got := nn.NumParams(r.params); float64(got) != f.Params {
			t.Errorf("%s %s: estimate %g parameters, the model has %d", cfg.Model, cfg.Data, f.Params, got)
		}
	}
}

func TestReadCount(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text string
		n    uint64
		ok   bool
	}{{"1073741824\n", 1 << 30, true}, {"max\n", 0, false}, {"", 0, false}} {
		p := filepath.Join(dir, "count")
		os.WriteFile(p, []byte(c.text), 0o644)
		if n, ok := readCount(p); n != c.n || ok != c.ok {
			t.Errorf("readCount(%q) = %d, %v; want %d, %v", c.text, n, ok, c.n, c.ok)
		}
	}
	if _, ok := readCount(filepath.Join(dir, "absent")); ok {
		t.Error("readCount of a missing file is ok")
	}
	if g := gib(1.7e12); g != "1583 GiB" {
		t.Errorf("gib(1.7e12) = %s", g)
	}
	if g := gib(3 << 29); g != "1.5 GiB" {
		t.Errorf("gib(1.5 GiB) = %s", g)
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       16318796 kB\nMemFree:         1000 kB\nMemAvailable:    8000000 kB\n"
	avail, total, err := parseMeminfo(bufio.NewScanner(strings.NewReader(in)))
	if err != nil || avail != 8000000*1024 || total != 16318796*1024 {
		t.Errorf("parseMeminfo: %d, %d, %v", avail, total, err)
	}
	if _, _, err := parseMeminfo(bufio.NewScanner(strings.NewReader("MemTotal: 5 kB\n"))); err == nil {
		t.Error("parseMeminfo accepted a file without MemAvailable")
	}
}
