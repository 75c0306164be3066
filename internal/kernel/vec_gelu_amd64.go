//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// geluAVX2 is GELU32's kernel in vec_gelu_amd64.s: n elements, n a
// positive multiple of 8, the constants from table (geluTable).
//
//go:noescape
func geluAVX2(n int, f, d1, d2, x *float32, table *[len(geluConsts)][8]float32)

// geluHasAVX2 reports whether this CPU runs geluAVX2; a variable so that
// tests can turn the kernel off.
var geluHasAVX2 = cpu.X86.HasAVX2

// gelu32 runs the assembly kernel on the longest prefix of whole blocks of
// 8 elements and returns its length, leaving the tail to geluGo.
func gelu32(f, d1, d2, x []float32) int {
	n := len(x) &^ 7
	if n == 0 || !geluHasAVX2 {
		return 0
	}
	f, d1, d2 = f[:n], d1[:n], d2[:n]
	geluAVX2(n, &f[0], &d1[0], &d2[0], &x[0], &geluTable)
	return n
}

// expScaledAVX2 is ExpScaled32's kernel in vec_gelu_amd64.s: n elements, n
// a positive multiple of 8.
//
//go:noescape
func expScaledAVX2(n int, dst, x *float32, scale, shift float32, table *[len(geluConsts)][8]float32)

// expScaled32 runs the assembly kernel on the longest prefix of whole
// blocks of 8 elements and returns its length, leaving the tail to
// expScaledGo.
func expScaled32(dst, x []float32, scale, shift float32) int {
	n := len(x) &^ 7
	if n == 0 || !geluHasAVX2 {
		return 0
	}
	dst = dst[:n]
	expScaledAVX2(n, &dst[0], &x[0], scale, shift, &geluTable)
	return n
}
