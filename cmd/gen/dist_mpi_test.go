//go:build mpi

// Fault tests of data-parallel training: they start mpirun themselves (run
// them with go test -tags mpi, not under mpirun) and need OpenMPI's mpirun
// on the PATH.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genopt/gen/checkpoint"
)

// mpiBin builds gen with -tags mpi once.
func mpiBin(t *testing.T) string {
	t.Helper()
	path := filepath.Join(filepath.Dir(bin), "gen-mpi")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return path
}

// mpirun starts gen under mpirun -np 2 in its own process group.
func mpirun(t *testing.T, out *bytes.Buffer, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	all := append([]string{"-np", "2", "--oversubscribe"}, args...)
	if os.Geteuid() == 0 {
		all = append([]string{"--allow-run-as-root"}, all...)
	}
	cmd := exec.Command("mpirun", all...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	return cmd
}

// rankPID finds the process of the given rank among mpirun's children by
// the OMPI_COMM_WORLD_RANK in its environment.
func rankPID(t *testing.T, mpirunPID, rank int) int {
	t.Helper()
	want := fmt.Sprintf("OMPI_COMM_WORLD_RANK=%d", rank)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		dirs, _ := os.ReadDir("/proc")
		for _, d := range dirs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
			if err != nil {
				continue
			}
			// The parent's pid is the 4th field, after the ")" that ends the name.
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(f) < 2 || f[1] != strconv.Itoa(mpirunPID) {
				continue
			}
			env, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
			for _, kv := range bytes.Split(env, []byte{0}) {
				if string(kv) == want {
					return pid
				}
			}
		}
	}
	t.Fatalf("no process of rank %d under mpirun (pid %d)", rank, mpirunPID)
	return 0
}

// waitCheckpoint waits until the run directory holds a checkpoint.
func waitCheckpoint(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := checkpoint.ReadManifest(filepath.Join(dir, "checkpoint")); err == nil {
			return
		}
	}
	t.Fatal("no checkpoint after 60 s")
}

// TestDistFaults: a rank killed (SIGKILL) or stopped (SIGSTOP, the case
// only the collectives' timeout catches) mid-run ends the job with an error
// within 30 s, and the last checkpoint loads and resumes to the end.
func TestDistFaults(t *testing.T) {
	gen := mpiBin(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		want string // in the job's output
	}{
		{"killed", syscall.SIGKILL, "signal 9"},
		{"stopped", syscall.SIGSTOP, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			var out bytes.Buffer
			job := mpirun(t, &out, gen, "train", "--dist", "mpi", "--dist-timeout", "3", "--data", "synthetic",
				"--hidden", "32", "--steps", "1500", "--checkpoint-every", "25", "--threads", "1", "--quiet", "--out", dir)
			waitCheckpoint(t, dir)
			start := time.Now()
			if err := syscall.Kill(rankPID(t, job.Process.Pid, 1), tc.sig); err != nil {
				t.Fatal(err)
			}
			ended := make(chan error, 1)
			go func() { ended <- job.Wait() }()
			select {
			case err := <-ended:
				if err == nil {
					t.Fatalf("the job exited 0 after rank 1 got %v; output:\n%s", tc.sig, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("the job still runs 30 s after rank 1 got %v; output:\n%s", tc.sig, out.String())
			}
			t.Logf("rank 1 got %v: the job ended in %v", tc.sig, time.Since(start).Round(time.Millisecond))
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("the job's output does not say %q:\n%s", tc.want, out.String())
			}
			if _, err := checkpoint.ReadManifest(filepath.Join(dir, "checkpoint")); err != nil {
				t.Fatalf("the checkpoint does not load after the fault: %v", err)
			}
			if tc.sig != syscall.SIGKILL {
				return // one resume is enough
			}
			// Another number of ranks would split the batches otherwise:
			// refused, with the number to use.
			one := exec.Command(gen, "train", "--resume", dir, "--quiet")
			msg, err := one.CombinedOutput()
			if err == nil || !strings.Contains(string(msg), "resume it with mpirun -np 2") {
				t.Fatalf("resume on 1 rank of a 2-rank run: got %v, output:\n%s\nwant an error naming mpirun -np 2", err, msg)
			}
			out.Reset()
			resumed := mpirun(t, &out, gen, "train", "--resume", dir, "--quiet", "--json")
			if err := resumed.Wait(); err != nil {
				t.Fatalf("resume after the fault: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), `"steps":1500`) {
				t.Fatalf("the resumed run did not reach step 1500:\n%s", out.String())
			}
		})
	}
}

// TestDistInterrupt: SIGTERM on rank 0 alone stops both ranks before the
// same step (rank 0's vote travels in the gradient all-reduce): the job
// exits with an interrupted run's status — 143 from rank 0, which got
// SIGTERM, or 130 from rank 1, stopped by the vote, whichever mpirun reports
// first — and a checkpoint, and resuming finishes the run.
func TestDistInterrupt(t *testing.T) {
	gen := mpiBin(t)
	dir := filepath.Join(t.TempDir(), "run")
	var out bytes.Buffer
	job := mpirun(t, &out, gen, "train", "--dist", "mpi", "--data", "synthetic", "--hidden", "32", "--steps", "1500",
		"--checkpoint-every", "25", "--threads", "1", "--quiet", "--out", dir)
	waitCheckpoint(t, dir)
	if err := syscall.Kill(rankPID(t, job.Process.Pid, 0), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := job.Wait(); !errors.As(err, &exit) || (exit.ExitCode() != 143 && exit.ExitCode() != 130) {
		t.Fatalf("the interrupted job ended with %v, want exit status 143 or 130\n%s", err, out.String())
	}
	if got := strings.Count(out.String(), "interrupted"); got != 2 {
		t.Errorf("%d ranks say they were interrupted, want 2:\n%s", got, out.String())
	}
	m, err := checkpoint.ReadManifest(filepath.Join(dir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Step <= 0 || m.Step >= 1500 {
		t.Fatalf("the interrupt's checkpoint is at step %d, want one inside the run", m.Step)
	}
	out.Reset()
	resumed := mpirun(t, &out, gen, "train", "--resume", dir, "--quiet", "--json")
	if err := resumed.Wait(); err != nil || !strings.Contains(out.String(), `"steps":1500`) {
		t.Fatalf("resume after the interrupt: %v\n%s", err, out.String())
	}
}
