//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

//go:noescape
func maxAVX512(n int, x *float32) float32

// maxHasAVX512 reports whether Max32 runs the assembly kernel; a variable
// so that tests can turn it off.
var maxHasAVX512 = cpu.X86.HasAVX512F

// maxAsm32 runs maxAVX512 on x where the CPU has AVX-512 and x is not empty,
// and reports whether it did.
func maxAsm32(x []float32) (float32, bool) {
	if !maxHasAVX512 || len(x) == 0 {
		return 0, false
	}
	return maxAVX512(len(x), &x[0]), true
}
