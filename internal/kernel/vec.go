package kernel

import "fmt"

func checkLen(op string, x, y int) {
	if x != y {
		panic(fmt.Sprintf("kernel: %s: lengths differ: %d and %d", op, x, y))
	}
}

// Axpy computes y ← y + alpha·x elementwise. x and y have equal lengths.
func Axpy[T Float](alpha T, x, y []T) {
	checkLen("Axpy", len(x), len(y))
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Dot returns Σ x[i]·y[i], accumulated in float64 whatever the element type,
// so that the scalars GeN relies on keep their precision.
func Dot[T Float](x, y []T) float64 {
	checkLen("Dot", len(x), len(y))
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
