package tensor

import (
	"fmt"
	"slices"
)

// Float is the set of element types a Tensor may hold.
type Float interface{ ~float32 | ~float64 }

// Tensor is a dense row-major array of float32 or float64 elements.
type Tensor[T Float] struct {
	shape []int
	data  []T
}

// New returns a zero tensor of the given shape. A tensor with no dimensions
// is a scalar with one element.
func New[T Float](shape ...int) *Tensor[T] {
	n := checkShape("New", shape)
	return &Tensor[T]{shape: slices.Clone(shape), data: make([]T, n)}
}

// FromSlice wraps data (not copied) as a tensor of the given shape.
func FromSlice[T Float](data []T, shape ...int) *Tensor[T] {
	n := checkShape("FromSlice", shape)
	if n != len(data) {
		panic(fmt.Sprintf("tensor: FromSlice: shape %v needs %d elements, got %d", shape, n, len(data)))
	}
	return &Tensor[T]{shape: slices.Clone(shape), data: data}
}

// Scalar returns a one-element tensor of shape () holding v.
func Scalar[T Float](v T) *Tensor[T] { return &Tensor[T]{data: []T{v}} }

func checkShape(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			badShape(op, slices.Clone(shape))
		}
		n *= d
	}
	return n
}

// badShape panics; it takes a copy of the shape so that callers' shape
// arguments do not escape to the heap on the non-panicking path.
func badShape(op string, shape []int) {
	panic(fmt.Sprintf("tensor: %s: negative dimension in shape %v", op, shape))
}

// Shape returns the dimensions. The slice belongs to the tensor: do not modify it.
func (t *Tensor[T]) Shape() []int { return t.shape }

// Data returns the elements in row-major order; writes through it change the tensor.
func (t *Tensor[T]) Data() []T { return t.data }

// Len returns the number of elements.
func (t *Tensor[T]) Len() int { return len(t.data) }

// Rank returns the number of dimensions.
func (t *Tensor[T]) Rank() int { return len(t.shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor[T]) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	if i < 0 || i >= len(t.shape) {
		panic(fmt.Sprintf("tensor: Dim(%d) of a tensor of shape %v", i, t.shape))
	}
	return t.shape[i]
}

// Rows returns the leading dimension (1 for a scalar).
func (t *Tensor[T]) Rows() int {
	if len(t.shape) == 0 {
		return 1
	}
	return t.shape[0]
}

// Cols returns the number of elements per row: Len()/Rows().
func (t *Tensor[T]) Cols() int {
	r := t.Rows()
	if r == 0 {
		return 0
	}
	return len(t.data) / r
}

// At returns the element at the given index.
func (t *Tensor[T]) At(idx ...int) T { return t.data[t.offset("At", idx)] }

// Set writes v at the given index.
func (t *Tensor[T]) Set(v T, idx ...int) { t.data[t.offset("Set", idx)] = v }

func (t *Tensor[T]) offset(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: %s: index %v for shape %v", op, idx, t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor: %s: index %v out of range for shape %v", op, idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// Item returns the single element of a one-element tensor.
func (t *Tensor[T]) Item() T {
	if len(t.data) != 1 {
		panic(fmt.Sprintf("tensor: Item of a tensor of shape %v", t.shape))
	}
	return t.data[0]
}

// Reshape returns a view with a new shape and the same elements. One
// dimension may be -1 and is then inferred.
func (t *Tensor[T]) Reshape(shape ...int) *Tensor[T] {
	shape = slices.Clone(shape)
	infer, n := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("tensor: Reshape %v to %v: bad dimension", t.shape, shape))
		default:
			n *= d
		}
	}
	if infer >= 0 && n > 0 {
		shape[infer] = len(t.data) / n
		n *= shape[infer]
	}
	if n != len(t.data) {
		panic(fmt.Sprintf("tensor: Reshape %v (%d elements) to %v", t.shape, len(t.data), shape))
	}
	return &Tensor[T]{shape: shape, data: t.data}
}

// RowSlice returns a view of rows [i, j) along the leading dimension.
func (t *Tensor[T]) RowSlice(i, j int) *Tensor[T] {
	r := t.Rows()
	if i < 0 || j > r || i > j || len(t.shape) == 0 {
		panic(fmt.Sprintf("tensor: RowSlice(%d, %d) of shape %v", i, j, t.shape))
	}
	c := t.Cols()
	shape := slices.Clone(t.shape)
	shape[0] = j - i
	return &Tensor[T]{shape: shape, data: t.data[i*c : j*c]}
}

// Resize gives t the new shape, reusing its storage when it is large enough
// and allocating otherwise. The contents are unspecified afterwards. It is
// how reused buffers follow the shapes of a new batch without allocating.
func (t *Tensor[T]) Resize(shape ...int) {
	n := checkShape("Resize", shape)
	if cap(t.data) >= n {
		t.data = t.data[:n]
	} else {
		t.data = make([]T, n)
	}
	t.shape = append(t.shape[:0], shape...)
}

// Clone returns a deep copy.
func (t *Tensor[T]) Clone() *Tensor[T] {
	return &Tensor[T]{shape: slices.Clone(t.shape), data: slices.Clone(t.data)}
}

// SameShape reports whether a and b have equal shapes.
func SameShape[T, U Float](a *Tensor[T], b *Tensor[U]) bool { return slices.Equal(a.shape, b.shape) }

// String formats the shape and up to eight leading elements.
func (t *Tensor[T]) String() string {
	if len(t.data) <= 8 {
		return fmt.Sprintf("Tensor%v%v", t.shape, t.data)
	}
	return fmt.Sprintf("Tensor%v%v…", t.shape, t.data[:8])
}

// Convert returns a copy of src with element type U.
func Convert[U, T Float](src *Tensor[T]) *Tensor[U] {
	dst := New[U](src.shape...)
	for i, v := range src.data {
		dst.data[i] = U(v)
	}
	return dst
}
