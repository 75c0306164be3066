package ad

import (
	"fmt"
	"math"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// Dropout records inverted dropout of x (any shape) with drop probability
// p ∈ [0, 1) (Srivastava et al., "Dropout: a simple way to prevent neural
// networks from overfitting", JMLR 15, 2014):
//
//	y = x ⊙ m,   m_i = 1/(1−p) with probability 1−p, else 0,
//
// while t.Train is set; y = x otherwise (the value is still recorded, as a
// copy, so that tape positions do not depend on the mode). The mask is
// drawn from t.Rand. With t.ReplayRandom set, the last mask drawn at this
// tape position is reused instead, so that a re-evaluation at other
// parameters sees the same mask. "Last drawn" counts only recordings that
// drew: a recording in between that did not draw — out of training
// (t.Train false), with p = 0, or itself a replay — leaves the mask in
// place, so a training step, an evaluation pass on the same tape and a
// replay see the training step's mask. The mask is lost when another kind
// of primitive is recorded at that position. It is a misuse (panic) to
// replay when no mask with this size and p is held there.
//
// y is linear in x for a fixed mask, so the reverse and jet rules multiply
// by the same recorded mask and there is no own curvature.
func Dropout[T Float](t *Tape[T], x *Var[T], p float64) *Var[T] {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("ad: Dropout: probability %v outside [0, 1)", p))
	}
	y, op := record[dropoutOp[T]](t, x.Shape(), x)
	op.active = t.Train && p > 0
	if op.active {
		n := x.Value.Len()
		switch {
		case t.ReplayRandom:
			if !op.drawn || len(op.mask) != n || op.p != p {
				panic(fmt.Sprintf("ad: Dropout: ReplayRandom is set but no mask of %d elements with p = %v was drawn at tape position %d; record once with ReplayRandom off first", n, p, t.n-1))
			}
		default:
			if t.Rand == nil {
				panic("ad: Dropout: Tape.Train is set but Tape.Rand is nil")
			}
			op.mask = resize(op.mask, n)
			// The entry is looked up by an index that compiles to a
			// conditional move: a branch on a random draw mispredicts
			// at a rate of up to one half.
			lut := [2]T{T(1 / (1 - p)), 0}
			thr := dropThreshold(p)
			for i := range op.mask {
				k := 0
				if t.Rand.Uint64()&(1<<53-1) < thr { // t.Rand.Float64() < p
					k = 1
				}
				op.mask[i] = lut[k&1]
			}
			op.drawn, op.p = true, p
		}
	}
	return run(y)
}

// dropThreshold returns the integer form of the test Float64() < p on a
// draw u of Rand.Uint64: Float64 returns v/2⁵³ for v = u mod 2⁵³, so the
// test holds exactly when v < ⌈p·2⁵³⌉ (the scaling by 2⁵³ is exact). The
// same draws give the same mask as the float test, without converting or
// dividing.
func dropThreshold(p float64) uint64 { return uint64(math.Ceil(p * (1 << 53))) }

// dropoutOp keeps the mask m (values 0 or 1/(1−p)) it drew last, reused by
// position for ReplayRandom. active is false in evaluation mode (y = x).
type dropoutOp[T Float] struct {
	active, drawn bool
	p             float64
	mask          []T
}

func (*dropoutOp[T]) Name() string { return "Dropout" }

// apply writes dst = m ⊙ src (or src when inactive).
func (op *dropoutOp[T]) apply(dst, src []T) {
	if !op.active {
		copy(dst, src)
		return
	}
	m := op.mask[:len(src)]
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v * m[i]
	}
}

func (op *dropoutOp[T]) Forward(y *Var[T]) { op.apply(y.Value.Data(), y.in[0].Value.Data()) }

// VJP: x̄ += m ⊙ ȳ.
func (op *dropoutOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	g, gy := x.Grad.Data(), y.Grad.Data()
	if !op.active {
		for i, v := range gy {
			g[i] += v
		}
		return
	}
	m := op.mask[:len(gy)]
	if g32, f32 := any(g).([]float32); f32 {
		// The same products and sums, 16 or 8 at a time.
		kernel.MulAdd32(g32[:len(gy)], any(gy).([]float32), any(m).([]float32))
		return
	}
	for i, v := range gy {
		g[i] += v * m[i]
	}
}

// Jet: ẏ = m ⊙ ẋ, ÿ = m ⊙ ẍ with the recorded mask.
func (op *dropoutOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	if x.hasD1 {
		op.apply(y.d1.Data(), x.d1.Data())
	} else {
		tensor.Zero(y.d1)
	}
	if x.hasD2 {
		op.apply(y.d2.Data(), x.d2.Data())
	}
	return x.hasD2
}
