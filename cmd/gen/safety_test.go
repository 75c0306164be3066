//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genopt/gen/data"
)

// started is a gen process running in the background.
type started struct {
	cmd         *exec.Cmd
	out, stderr bytes.Buffer
	done        chan struct{}
	code        int
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	p := &started{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = 128 + int(ws.Signal())
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to end and returns its exit status.
func (p *started) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("%v still running after %v; stderr: %s", p.cmd.Args, limit, p.stderr.String())
		return 0
	}
}

// waitFor polls until cond holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// holds reports whether the run directory dir is locked by the process p
// (its lock file names p's pid): p has set up its signal handling.
func (p *started) holds(dir string) bool {
	b, _ := os.ReadFile(filepath.Join(dir, ".lock"))
	return strings.TrimSpace(string(b)) == strconv.Itoa(p.cmd.Process.Pid)
}

// The scripted kill/resume/concurrent-run check, through the binary: a
// second process on a live run is refused with the holder's pid; readers
// of the live run's checkpoint always succeed; after SIGKILL the run
// resumes and ends with exactly one metrics row per step.
func TestKillResumeAndConcurrentRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	const steps = 1500
	a := start(t, "train", "--data", "synthetic", "--hidden", "32", "--batch", "8", "--steps", strconv.Itoa(steps),
		"--checkpoint-every", "5", "--quiet", "--out", dir)
	waitFor(t, 20*time.Second, "the first checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(dir, "checkpoint", "manifest.json"))
		return err == nil
	})
	// Stopped, the run holds its directory for as long as the checks take.
	a.cmd.Process.Signal(syscall.SIGSTOP)
	holder := fmt.Sprintf("process %d", a.cmd.Process.Pid)
	for _, args := range [][]string{
		{"train", "--resume", dir, "--quiet"},
		{"train", "--data", "synthetic", "--steps", "3", "--overwrite", "--quiet", "--out", dir},
	} {
		_, stderr, code := gen(t, args...)
		if code == 0 || !strings.Contains(stderr, holder) {
			t.Errorf("gen %v beside a live run: exit %d, %q; want a refusal naming %s", args, code, stderr, holder)
		}
	}
	// Readers of the checkpoint while the run replaces it every 5 steps.
	a.cmd.Process.Signal(syscall.SIGCONT)
	for i := 0; i < 4; i++ {
		_, stderr, code := gen(t, "probe", "--checkpoint", dir, "--json", "--out", filepath.Join(t.TempDir(), "probe"))
		if code != 0 {
			t.Errorf("gen probe --checkpoint of a live run: exit %d: %s", code, stderr)
		}
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	if code := a.wait(t, 10*time.Second); code != 128+int(syscall.SIGKILL) {
		t.Logf("the run ended by itself (exit %d) before SIGKILL: this machine is fast; the resume below checks a finished run", code)
	}

	out, stderr, code := gen(t, "train", "--resume", dir, "--json")
	if code != 0 {
		t.Fatalf("resume after SIGKILL: exit %d: %s", code, stderr)
	}
	var sum struct{ Steps int }
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Steps != steps {
		t.Fatalf("resumed summary %q (%v), want %d steps", out, err, steps)
	}
	rows, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(rows)), "\n")
	for i, l := range lines {
		var r struct{ Step int }
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Step != i+1 {
			t.Fatalf("metrics.jsonl line %d: %q, want step %d", i+1, l, i+1)
		}
	}
	if len(lines) != steps {
		t.Errorf("metrics.jsonl has %d rows for %d steps", len(lines), steps)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".checkpoint.tmp-") || strings.HasPrefix(e.Name(), ".checkpoint.old-") {
			t.Errorf("leftover %s after the run finished", e.Name())
		}
	}
}

// SIGTERM and SIGINT stop a run after its checkpoint with 143 and 130,
// and --json prints the summary marked interrupted.
func TestInterruptedRunExitStatus(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	a := start(t, "train", "--data", "synthetic", "--hidden", "32", "--batch", "8", "--steps", "1000000", "--checkpoint-every", "5", "--json", "--out", dir)
	waitFor(t, 20*time.Second, "the first checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(dir, "checkpoint", "manifest.json"))
		return err == nil
	})
	a.cmd.Process.Signal(syscall.SIGTERM)
	if code := a.wait(t, 20*time.Second); code != 143 {
		t.Fatalf("SIGTERM: exit %d, want 143; stderr %s", code, a.stderr.String())
	}
	var sum struct {
		Steps       int
		Interrupted bool
	}
	if err := json.Unmarshal(a.out.Bytes(), &sum); err != nil || !sum.Interrupted || sum.Steps == 0 {
		t.Fatalf("--json after SIGTERM printed %q (%v), want a summary marked interrupted", a.out.String(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint", "manifest.json")); err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}
	b := start(t, "train", "--resume", dir, "--quiet")
	waitFor(t, 20*time.Second, "the resumed run to take its directory", func() bool { return b.holds(dir) })
	b.cmd.Process.Signal(syscall.SIGINT)
	if code := b.wait(t, 20*time.Second); code != 130 {
		t.Fatalf("SIGINT: exit %d, want 130; stderr %s", code, b.stderr.String())
	}
}

// gen probe stops on SIGINT in the middle of a long grid.
func TestProbeHonoursSIGINT(t *testing.T) {
	if _, err := data.LoadMNIST(data.MNISTOptions{}); err != nil {
		t.Skipf("MNIST files unavailable (%v): run go mod download", err)
	}
	out := filepath.Join(t.TempDir(), "probe")
	p := start(t, "probe", "--alphas", "0:1:100000", "--out", out)
	time.Sleep(1500 * time.Millisecond) // in the sweep: MNIST loads in well under a second
	began := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != 130 || !strings.Contains(p.stderr.String(), "interrupted") {
		t.Fatalf("gen probe after SIGINT: exit %d, stderr %q; want 130 and a message", code, p.stderr.String())
	}
	t.Logf("stopped %v after SIGINT", time.Since(began))
}

// Numbers that used to panic or wrap are errors that say what to change.
func TestHugeNumbersAreErrors(t *testing.T) {
	runs := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", "synthetic", "--hidden", "4611686018427387904"}, "GiB"},
		{[]string{"probe", "--data", "synthetic", "--hidden", "4611686018427387904"}, "GiB"},
		{[]string{"probe", "--data", "synthetic", "--alphas", "0:1:4611686018427387904"}, "more than 100000"},
		{[]string{"train", "--data", "synthetic", "--epochs", "9223372036854775807", "--batch", "1"}, "--epochs"},
		{[]string{"train", "--data", "synthetic", "--threads", "-1"}, "--threads"},
		{[]string{"train", "--resume", runs, "--overwrite"}, "give one of them"},
	}
	for i, c := range cases {
		out := filepath.Join(runs, strconv.Itoa(i))
		_, stderr, code := gen(t, append(c.args, "--out", out)...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("gen %v: exit %d, stderr %q; want exit 1 and a message with %q", c.args, code, stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(out, "summary.json")); err == nil {
			t.Errorf("gen %v wrote a summary", c.args)
		}
	}
}

// --out never writes over a directory gen did not make.
func TestForeignOutIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("mine\n"), 0o644)
	_, stderr, code := gen(t, "train", "--data", "synthetic", "--steps", "3", "--quiet", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "not a gen run directory") {
		t.Errorf("exit %d, %q", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "metrics.csv")); string(b) != "mine\n" {
		t.Errorf("metrics.csv became %q", b)
	}
}
