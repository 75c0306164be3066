//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// exp64AVX512 writes dst[i] = math.Exp(x[i]) for i below the first block of
// eight with an argument outside [−708, 709] (or NaN), n a positive
// multiple of 8, and returns how many elements it wrote.
//
//go:noescape
func exp64AVX512(n int, dst, x *float64, k *[16]float64) int

// hasExp64 says whether this CPU runs exp64AVX512. AVX-512 implies the FMA
// instructions, so math.Exp takes the same fused path there.
var hasExp64 = cpu.X86.HasAVX512F && cpu.X86.HasFMA

// exp64 runs exp64AVX512 on whole blocks of 8 and returns how many
// elements it wrote (0 without AVX-512).
func exp64(dst, x []float64) int {
	n := len(x) &^ 7
	if !hasExp64 || n == 0 {
		return 0
	}
	dst = dst[:n]
	return exp64AVX512(n, &dst[0], &x[0], &expConsts)
}
