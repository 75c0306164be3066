package data

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"

	"github.com/genopt/gen/tensor"
)

// Batch holds M examples of a Set as tensors of element type T. Its buffers
// are reused: FillBatch resizes them in place and allocates only when the
// batch size changes (a few bytes for the new shape, and new storage when M
// exceeds every earlier batch), so a training loop that fills the same Batch
// allocates nothing in steady state.
type Batch[T tensor.Float] struct {
	// X holds the features, M×F. For a set whose examples have Shape (1, 28,
	// 28), X.Reshape(M, 1, 28, 28) is the image view a convolution takes.
	X *tensor.Tensor[T]
	// Labels holds the M class ids of a classification set; nil otherwise.
	Labels []int
	// Y holds the regression targets, M×K; nil for a classification set.
	Y *tensor.Tensor[T]
	// Tokens holds the context windows of a windowed (text) set as token
	// ids, M×C row-major; nil otherwise.
	Tokens []int
	// Index holds the M example indices in the set that were copied.
	Index []int

	rows rowCopy         // the row gather of fill, spread over threads
	dec  kernel.Decoder8 // the decoder of the last set with Codes
}

// rowCopy copies rows src[idx[k]·f : +f] to dst[k·f : +f] for the rows k a
// kernel.ParallelFor part is given, or, when codes is set, decodes the
// rows codes[idx[k]·f : +f] (the set's Codes) into them instead. It lives in the Batch so that a parallel
// fill allocates nothing.
type rowCopy struct {
	dst, src []float32
	idx      []int
	f        int
	codes    []uint8          // when not nil, the rows are decoded from these
	dec      *kernel.Decoder8 // the decoder of codes
}

// Range copies the rows [lo, hi), asking for each row's cache lines
// prefetchAhead rows before it is copied.
func (c *rowCopy) Range(_, lo, hi int) {
	for k := lo; k < min(lo+prefetchAhead, hi); k++ {
		c.prefetch(c.idx[k])
	}
	for k := lo; k < hi; k++ {
		if a := k + prefetchAhead; a < hi {
			c.prefetch(c.idx[a])
		}
		c.row(k, c.idx[k])
	}
}

// prefetch asks for the cache lines of source row i: its codes when the
// rows are decoded from them, else its values.
func (c *rowCopy) prefetch(i int) {
	f := c.f
	if c.codes != nil {
		kernel.PrefetchBytes(c.codes[i*f : (i+1)*f])
	} else {
		kernel.Prefetch(c.src[i*f : (i+1)*f])
	}
}

// row writes source row i into row k of dst.
func (c *rowCopy) row(k, i int) {
	f := c.f
	if c.codes != nil {
		c.dec.Decode(c.dst[k*f:(k+1)*f], c.codes[i*f:(i+1)*f])
	} else {
		copy(c.dst[k*f:(k+1)*f], c.src[i*f:(i+1)*f])
	}
}

// prefetchAhead is how many rows ahead of its copy a gather prefetches:
// rows of a shuffled batch lie far apart (MNIST: 188 MB), so each row's
// first miss waits on memory; with the lines of the next rows already
// requested, the misses overlap.
const prefetchAhead = 4

// parallelRows is the size of a float32 batch (elements) from which its
// rows are gathered on all the GEMM pool's threads: a 128-image MNIST batch
// (100 352 elements, rows scattered over 188 MB) took 80 µs on one thread,
// a sixth of a training step on two.
const parallelRows = 1 << 16

// Len returns M, the number of examples in the batch.
func (b *Batch[T]) Len() int { return len(b.Index) }

// FillBatch copies the examples idx of set s into dst, in that order:
// X[k] = features of idx[k], and Labels[k], Y[k], Tokens[k] likewise. Fields
// the set does not provide are set to nil. idx may alias dst.Index. It
// panics on an index outside [0, N).
func FillBatch[T tensor.Float](dst *Batch[T], s *Set, idx []int) {
	dst.Index = append(dst.Index[:0], idx...)
	fill(dst, s)
}

// FillRange copies the examples lo … hi−1 of set s into dst, as
// FillBatch would; it is how an evaluation walks a set in order without
// building an index slice.
func FillRange[T tensor.Float](dst *Batch[T], s *Set, lo, hi int) {
	if lo < 0 || hi > s.Len() || lo > hi {
		panic(fmt.Sprintf("data: FillRange(%d, %d) of set %q with %d examples", lo, hi, s.Name, s.Len()))
	}
	dst.Index = dst.Index[:0]
	for i := lo; i < hi; i++ {
		dst.Index = append(dst.Index, i)
	}
	fill(dst, s)
}

// NextBatch fills dst with the loader's next batch, moves past it, and
// returns the position the batch started at.
func NextBatch[T tensor.Float](l *Loader, dst *Batch[T]) Position {
	p := l.Position()
	FillBatch(dst, l.set, l.Next())
	return p
}

// PeekBatch fills dst with the loader's next batch without consuming it
// (the next NextBatch returns the same examples) and returns its position.
func PeekBatch[T tensor.Float](l *Loader, dst *Batch[T]) Position {
	p := l.Position()
	FillBatch(dst, l.set, l.Peek())
	return p
}

// fill copies the examples dst.Index of s into dst's tensors.
func fill[T tensor.Float](dst *Batch[T], s *Set) {
	m, f, n := len(dst.Index), s.Features(), s.Len()
	for _, i := range dst.Index {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: FillBatch: index %d of set %q with %d examples", i, s.Name, n))
		}
	}
	dst.X = resize(dst.X, m, f)
	x := dst.X.Data()
	switch {
	case !s.Windowed():
		if x64, ok := any(x).([]float64); ok && s.X64 != nil {
			// A float64 batch of a set read in float64: the exact values.
			for k, i := range dst.Index {
				copy(x64[k*f:(k+1)*f], s.X64[i*f:(i+1)*f])
			}
		} else if x32, ok := any(x).([]float32); ok {
			// The common case, a float32 batch: one copy per row.
			dst.rows = rowCopy{dst: x32, src: s.X, idx: dst.Index, f: f}
			if s.Codes != nil && s.CodeValues != nil && len(s.Codes) == len(s.X) {
				if !dst.dec.Holds(s.CodeValues) {
					dst.dec.Reset(s.CodeValues)
				}
				dst.rows.codes, dst.rows.dec = s.Codes, &dst.dec // a quarter of the bytes
			}
			if m*f >= parallelRows {
				kernel.ParallelFor(m, m, &dst.rows)
			} else {
				dst.rows.Range(0, 0, m)
			}
			dst.rows = rowCopy{} // keep no reference to the set
		} else {
			for k, i := range dst.Index {
				row := x[k*f : (k+1)*f]
				for j, v := range s.X[i*f : (i+1)*f] {
					row[j] = T(v)
				}
			}
		}
		dst.Tokens = nil
	default:
		c, v := s.Context, s.Vocab.Size()
		dst.Tokens = dst.Tokens[:0]
		if s.OneHot {
			clear(x)
		}
		for k, i := range dst.Index {
			window := s.Tokens[i : i+c]
			dst.Tokens = append(dst.Tokens, window...)
			row := x[k*f : (k+1)*f]
			for j, t := range window {
				if s.OneHot {
					row[j*v+t] = 1
				} else {
					row[j] = T(t)
				}
			}
		}
	}
	if s.Labels != nil {
		dst.Labels = dst.Labels[:0]
		for _, i := range dst.Index {
			dst.Labels = append(dst.Labels, s.Labels[i])
		}
	} else {
		dst.Labels = nil
	}
	if s.Outputs > 0 {
		k := s.Outputs
		dst.Y = resize(dst.Y, m, k)
		y := dst.Y.Data()
		if y64, ok := any(y).([]float64); ok && s.Y64 != nil {
			for r, i := range dst.Index {
				copy(y64[r*k:(r+1)*k], s.Y64[i*k:(i+1)*k])
			}
		} else {
			for r, i := range dst.Index {
				for j, v := range s.Y[i*k : (i+1)*k] {
					y[r*k+j] = T(v)
				}
			}
		}
	} else {
		dst.Y = nil
	}
}

// resize returns t resized to rows×cols, or a new tensor if t is nil. It
// leaves a tensor of the right shape alone: Resize's variadic shape escapes
// to the heap, a small allocation a fixed-size batch does not need.
func resize[T tensor.Float](t *tensor.Tensor[T], rows, cols int) *tensor.Tensor[T] {
	switch {
	case t == nil:
		return tensor.New[T](rows, cols)
	case t.Rank() != 2 || t.Dim(0) != rows || t.Dim(1) != cols:
		t.Resize(rows, cols)
	}
	return t
}
