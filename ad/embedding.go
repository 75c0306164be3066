package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

// Embedding records a table lookup: w is the V×D table (V tokens, D
// features), idx holds M·context token indices in [0, V) (M examples of
// context tokens each, row-major), and the result is M×(context·D), the
// concatenated rows of the table:
//
//	y[i, k·D + d] = w[idx[i·context + k], d]
//
// (Bengio et al., "A neural probabilistic language model", JMLR 3, 2003).
// The indices are data: they are copied, so the caller may reuse idx. y is
// linear in w: the reverse rule scatter-adds rows of ȳ into w̄ (repeated
// tokens accumulate), the jet gathers rows of ẇ and ẅ, and there is no own
// curvature.
func Embedding[T Float](t *Tape[T], w *Var[T], idx []int, context int) *Var[T] {
	ws := w.Shape()
	if len(ws) != 2 {
		panic(fmt.Sprintf("ad: Embedding: table %v, want V×D", ws))
	}
	if context < 1 || len(idx)%context != 0 {
		panic(fmt.Sprintf("ad: Embedding: %d indices do not split into rows of context %d", len(idx), context))
	}
	for i, k := range idx {
		if k < 0 || k >= ws[0] {
			panic(fmt.Sprintf("ad: Embedding: index %d at position %d is outside the table's [0, %d)", k, i, ws[0]))
		}
	}
	y, op := record[embeddingOp[T]](t, []int{len(idx) / context, context * ws[1]}, w)
	op.idx = append(op.idx[:0], idx...)
	op.d = ws[1]
	return run(y)
}

// embeddingOp holds a copy of the indices and the row length D.
type embeddingOp[T Float] struct {
	idx []int
	d   int
}

func (*embeddingOp[T]) Name() string { return "Embedding" }

// gather writes the table rows src[idx[i]] into consecutive rows of dst.
func (op *embeddingOp[T]) gather(dst, src []T) {
	d := op.d
	for i, k := range op.idx {
		copy(dst[i*d:(i+1)*d], src[k*d:(k+1)*d])
	}
}

func (op *embeddingOp[T]) Forward(y *Var[T]) { op.gather(y.Value.Data(), y.in[0].Value.Data()) }

// VJP: w̄[idx[i]] += ȳ_i (row i of ȳ viewed as (M·context)×D).
func (op *embeddingOp[T]) VJP(y *Var[T]) {
	w := y.in[0]
	if !w.needsGrad {
		return
	}
	d, g, gy := op.d, w.Grad.Data(), y.Grad.Data()
	for i, k := range op.idx {
		kernel.Axpy(1, gy[i*d:(i+1)*d], g[k*d:(k+1)*d])
	}
}

// Jet: ẏ = ẇ[idx], ÿ = ẅ[idx].
func (op *embeddingOp[T]) Jet(y *Var[T], _ bool) bool {
	w := y.in[0]
	if w.hasD1 {
		op.gather(y.d1.Data(), w.d1.Data())
	} else {
		clear(y.d1.Data())
	}
	if w.hasD2 {
		op.gather(y.d2.Data(), w.d2.Data())
	}
	return w.hasD2
}
