package kernel

import (
	"fmt"
	"unsafe"
)

func checkLen(op string, x, y int) {
	if x != y {
		panic(fmt.Sprintf("kernel: %s: lengths differ: %d and %d", op, x, y))
	}
}

// Axpy computes y ← y + alpha·x elementwise. x and y have equal lengths and
// must not overlap unless they are the same slice.
//
// For float32 on amd64 the loop runs in assembly (AVX-512 or AVX2; see
// axpyAVX512) with the operations of the pure-Go twin axpyGo (a product,
// then a sum, no fused multiply-add), so both give the same bits.
func Axpy[T Float](alpha T, x, y []T) {
	checkLen("Axpy", len(x), len(y))
	done := 0
	if unsafe.Sizeof(alpha) == 4 {
		done = axpy32(float32(alpha), asF32(x), asF32(y))
	}
	axpyGo(alpha, x[done:], y[done:])
}

// axpyGo is the reference loop of Axpy, the pure-Go twin of axpyAVX512 and
// axpyAVX2.
func axpyGo[T Float](alpha T, x, y []T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Dot returns Σ x[i]·y[i], accumulated in float64 whatever the element type,
// so that the scalars GeN relies on keep their precision.
//
// For float32 on amd64 the sum runs in assembly (AVX-512 or AVX2; see
// dotAVX512). Each product of two float32 values is exact in float64, so
// the assembly and the pure-Go twin dotGo differ only in the order of the
// float64 additions (more partial sums in the assembly): by at most a few
// float64 roundings of Σ|x[i]·y[i]|, and the same bits on every call.
func Dot[T Float](x, y []T) float64 {
	checkLen("Dot", len(x), len(y))
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		if s, done := dot32(asF32(x), asF32(y)); done > 0 {
			return s + dotGo(x[done:], y[done:])
		}
	}
	return dotGo(x, y)
}

// dotGo is the reference loop of Dot, the pure-Go twin of dotAVX512 and
// dotAVX2.
func dotGo[T Float](x, y []T) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i]) * float64(y[i])
		s1 += float64(x[i+1]) * float64(y[i+1])
		s2 += float64(x[i+2]) * float64(y[i+2])
		s3 += float64(x[i+3]) * float64(y[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) * float64(y[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// Sum returns Σ x[i], accumulated in float64.
func Sum[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// Scale computes x ← alpha·x elementwise.
func Scale[T Float](alpha T, x []T) {
	for i := range x {
		x[i] *= alpha
	}
}
