//go:build !amd64 || purego

package kernel

// geluHasAVX2 and geluHasAVX512 are false without the assembly kernels.
var geluHasAVX2, geluHasAVX512 = false, false

// gelu32 does no work without the assembly kernels (the purego tag, or not
// amd64): every element goes to geluGo.
func gelu32(f, d1, d2, x []float32) int { return 0 }

// expScaled32 does no work without the assembly kernels: every element
// goes to expScaledGo.
func expScaled32(dst, x []float32, scale, shift float32) int { return 0 }

// mulAdd32 does no work without the assembly kernels: every element goes
// to mulAddGo.
func mulAdd32(dst, a, b []float32) int { return 0 }

// mul32 does no work without the assembly kernels: every element goes to
// mulGo.
func mul32(dst, a, b []float32) int { return 0 }
