//go:build amd64 && !purego

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// decode8VBMI writes dst[i] = the value of code src[i] for i < n, n a
// positive multiple of 64, from the byte planes of a Decoder8 and the code
// order decode8Perm.
//
//go:noescape
func decode8VBMI(n int, dst *float32, src *uint8, planes *[4][256]uint8, perm *[64]uint8)

// hasDecode8 says whether this CPU runs decode8VBMI (AVX-512 F, BW and
// VBMI).
var hasDecode8 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI

// decode8 runs decode8VBMI on the longest prefix of whole blocks of 64
// codes and returns its length (0 without the instructions).
func decode8(dst []float32, src []uint8, d *Decoder8) int {
	n := len(src) &^ 63
	if !hasDecode8 || n == 0 {
		return 0
	}
	dst = dst[:n]
	decode8VBMI(n, &dst[0], &src[0], &d.planes, &decode8Perm)
	return n
}

// PrefetchBytes asks the CPU to bring b into its caches ahead of a read,
// as Prefetch does for float32 values.
func PrefetchBytes(b []uint8) {
	if len(b) > 0 {
		// The lines of the (len(b)+3)/4 floats at &b[0] are b's lines (the
		// last may reach 3 bytes past b: a hint, it never faults).
		prefetchAVX((*float32)(unsafe.Pointer(&b[0])), (len(b)+3)/4)
	}
}
