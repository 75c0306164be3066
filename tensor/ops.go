package tensor

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

func mustSameShape[T Float](op string, ts ...*Tensor[T]) {
	for _, t := range ts[1:] {
		if !SameShape(ts[0], t) {
			shapes := make([][]int, len(ts))
			for i, u := range ts {
				shapes[i] = u.shape
			}
			panic(fmt.Sprintf("tensor: %s: shapes differ: %v", op, shapes))
		}
	}
}

// Zero sets every element of t to 0.
func Zero[T Float](t *Tensor[T]) { clear(t.data) }

// Fill sets every element of t to v.
func Fill[T Float](t *Tensor[T], v T) {
	for i := range t.data {
		t.data[i] = v
	}
}

// Copy copies src into dst; the shapes must match.
func Copy[T Float](dst, src *Tensor[T]) {
	mustSameShape("Copy", dst, src)
	copy(dst.data, src.data)
}

// Add computes dst = a + b elementwise. dst may alias a or b.
func Add[T Float](dst, a, b *Tensor[T]) {
	mustSameShape("Add", dst, a, b)
	bd := b.data[:len(a.data)]
	d := dst.data[:len(a.data)]
	for i, v := range a.data {
		d[i] = v + bd[i]
	}
}

// Sub computes dst = a − b elementwise. dst may alias a or b.
func Sub[T Float](dst, a, b *Tensor[T]) {
	mustSameShape("Sub", dst, a, b)
	bd := b.data[:len(a.data)]
	d := dst.data[:len(a.data)]
	for i, v := range a.data {
		d[i] = v - bd[i]
	}
}

// Mul computes dst = a ⊙ b elementwise. dst may alias a or b.
func Mul[T Float](dst, a, b *Tensor[T]) {
	mustSameShape("Mul", dst, a, b)
	bd := b.data[:len(a.data)]
	d := dst.data[:len(a.data)]
	for i, v := range a.data {
		d[i] = v * bd[i]
	}
}

// Scale computes dst = s·a. dst may alias a.
func Scale[T Float](dst, a *Tensor[T], s T) {
	mustSameShape("Scale", dst, a)
	d := dst.data[:len(a.data)]
	for i, v := range a.data {
		d[i] = s * v
	}
}

// Axpy computes y = y + alpha·x.
func Axpy[T Float](y *Tensor[T], alpha T, x *Tensor[T]) {
	mustSameShape("Axpy", y, x)
	kernel.Axpy(alpha, x.data, y.data)
}

// Dot returns Σ a[i]·b[i] over all elements, accumulated in float64.
func Dot[T Float](a, b *Tensor[T]) float64 {
	mustSameShape("Dot", a, b)
	return kernel.Dot(a.data, b.data)
}

// Sum returns the sum of all elements, accumulated in float64.
func Sum[T Float](a *Tensor[T]) float64 { return kernel.Sum(a.data) }

// MatMul computes
//
//	dst = alpha·op(a)·op(b) + beta·dst
//
// for 2-D tensors, where op(x) is x or xᵀ as transA/transB say; op(a) is M×K,
// op(b) is K×N and dst is M×N. With beta = 0 dst is overwritten. dst must not
// alias a or b.
func MatMul[T Float](dst, a, b *Tensor[T], transA, transB bool, alpha, beta T) {
	if a.Rank() != 2 || b.Rank() != 2 || dst.Rank() != 2 {
		panic(fmt.Sprintf("tensor: MatMul: want 2-D operands, got %v, %v → %v", a.shape, b.shape, dst.shape))
	}
	m, k := a.shape[0], a.shape[1]
	if transA {
		m, k = k, m
	}
	kb, n := b.shape[0], b.shape[1]
	if transB {
		kb, n = n, kb
	}
	if k != kb || dst.shape[0] != m || dst.shape[1] != n {
		panic(fmt.Sprintf("tensor: MatMul(transA=%v, transB=%v): shapes %v · %v → %v do not fit", transA, transB, a.shape, b.shape, dst.shape))
	}
	kernel.Gemm(transA, transB, m, n, k, alpha, a.data, a.shape[1], b.data, b.shape[1], beta, dst.data, n)
}

// AddRowVector computes dst[i, j] = a[i, j] + v[j]: v is broadcast along the
// rows of the M×N matrix view of a (M = leading dimension). dst may alias a.
func AddRowVector[T Float](dst, a, v *Tensor[T]) {
	mustSameShape("AddRowVector", dst, a)
	n := v.Len()
	if a.Cols() != n {
		panic(fmt.Sprintf("tensor: AddRowVector: rows of %v have %d elements, vector %v has %d", a.shape, a.Cols(), v.shape, n))
	}
	vd := v.data
	if d32, f32 := any(dst.data).([]float32); f32 && n > 0 {
		// The same sums, 16 at a time.
		rows := len(a.data) / n
		kernel.AddRows32(rows, n, d32, n, any(a.data).([]float32), n, any(vd).([]float32))
		return
	}
	for i := 0; i+n <= len(a.data) && n > 0; i += n {
		src, d := a.data[i:i+n], dst.data[i:i+n]
		for j, x := range src {
			d[j] = x + vd[j]
		}
	}
}

// SumRows accumulates the column sums of the M×N matrix view of a into dst:
// dst[j] = beta·dst[j] + Σ_i a[i, j] (beta 0 overwrites). dst has N elements.
func SumRows[T Float](dst, a *Tensor[T], beta T) {
	n := dst.Len()
	if a.Cols() != n {
		panic(fmt.Sprintf("tensor: SumRows: rows of %v have %d elements, destination %v has %d", a.shape, a.Cols(), dst.shape, n))
	}
	d := dst.data
	if beta == 0 {
		clear(d)
	} else if beta != 1 {
		kernel.Scale(beta, d)
	}
	for i := 0; i+n <= len(a.data) && n > 0; i += n {
		kernel.Axpy(1, a.data[i:i+n], d)
	}
}

// MaxAbs returns max |a[i]| (0 for an empty tensor); NaN if any element is NaN.
func MaxAbs[T Float](a *Tensor[T]) float64 {
	var m float64
	for _, v := range a.data {
		f := float64(v)
		if f != f {
			return f
		}
		if f < 0 {
			f = -f
		}
		m = max(m, f)
	}
	return m
}

// AllFinite reports whether every element is finite.
func AllFinite[T Float](a *Tensor[T]) bool {
	for _, v := range a.data {
		f := float64(v)
		if f-f != 0 {
			return false
		}
	}
	return true
}
