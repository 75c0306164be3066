//go:build unix

package train

import "syscall"

// processCPU returns the process's user and system CPU time in
// nanoseconds. On a machine shared with other jobs the wall time of a step
// (ns/op) grows with the load; the CPU time it used (cpu-ns/op, summed over
// threads) much less so.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
