//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// The kernels of vec_gelu_amd64.s: n elements, n a positive multiple of 8
// (AVX2) or 16 (AVX-512), the constants from table (geluTable).

//go:noescape
func geluAVX2(n int, f, d1, d2, x *float32, table *[len(geluConsts)][8]float32)

//go:noescape
func geluAVX512(n int, f, d1, d2, x *float32, table *[len(geluConsts)][8]float32)

//go:noescape
func expScaledAVX2(n int, dst, x *float32, scale, shift float32, table *[len(geluConsts)][8]float32)

//go:noescape
func expScaledAVX512(n int, dst, x *float32, scale, shift float32, table *[len(geluConsts)][8]float32)

// geluHasAVX2 and geluHasAVX512 report whether this CPU runs the AVX2 and
// the AVX-512 kernels (the latter needs AVX512DQ for VPMOVD2M); variables
// so that tests can turn a set off.
var (
	geluHasAVX2   = cpu.X86.HasAVX2
	geluHasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
)

// gelu32 runs the assembly kernels on the longest prefix of whole blocks of
// 8 elements (16 at a time where AVX-512 runs, then one block of 8) and
// returns its length, leaving the tail to geluGo.
func gelu32(f, d1, d2, x []float32) int {
	if !geluHasAVX2 {
		return 0
	}
	done := 0
	if n := len(x) &^ 15; n > 0 && geluHasAVX512 {
		geluAVX512(n, &f[0], &d1[0], &d2[0], &x[0], &geluTable)
		done = n
	}
	if n := (len(x) - done) &^ 7; n > 0 {
		f, d1, d2 := f[done:done+n], d1[done:done+n], d2[done:done+n]
		geluAVX2(n, &f[0], &d1[0], &d2[0], &x[done], &geluTable)
		done += n
	}
	return done
}

// expScaled32 runs the assembly kernels like gelu32 and returns how many
// leading elements they computed, leaving the tail to expScaledGo.
func expScaled32(dst, x []float32, scale, shift float32) int {
	if !geluHasAVX2 {
		return 0
	}
	dst = dst[:len(x)]
	done := 0
	if n := len(x) &^ 15; n > 0 && geluHasAVX512 {
		expScaledAVX512(n, &dst[0], &x[0], scale, shift, &geluTable)
		done = n
	}
	if n := (len(x) - done) &^ 7; n > 0 {
		expScaledAVX2(n, &dst[done], &x[done], scale, shift, &geluTable)
		done += n
	}
	return done
}

//go:noescape
func mulAddAVX512(n int, dst, a, b *float32)

//go:noescape
func mulAddAVX2(n int, dst, a, b *float32)

// mulAdd32 runs the assembly kernels like gelu32 and returns how many
// leading elements they computed, leaving the tail to mulAddGo.
func mulAdd32(dst, a, b []float32) int {
	if !geluHasAVX2 {
		return 0
	}
	done := 0
	if n := len(a) &^ 15; n > 0 && geluHasAVX512 {
		mulAddAVX512(n, &dst[0], &a[0], &b[0])
		done = n
	}
	if n := (len(a) - done) &^ 7; n > 0 {
		mulAddAVX2(n, &dst[done], &a[done], &b[done])
		done += n
	}
	return done
}

//go:noescape
func mulAVX512(n int, dst, a, b *float32)

//go:noescape
func mulAVX2(n int, dst, a, b *float32)

// mul32 runs the assembly kernels like gelu32 and returns how many
// leading elements they computed, leaving the tail to mulGo.
func mul32(dst, a, b []float32) int {
	if !geluHasAVX2 {
		return 0
	}
	done := 0
	if n := len(a) &^ 15; n > 0 && geluHasAVX512 {
		mulAVX512(n, &dst[0], &a[0], &b[0])
		done = n
	}
	if n := (len(a) - done) &^ 7; n > 0 {
		mulAVX2(n, &dst[done], &a[done], &b[done])
		done += n
	}
	return done
}
