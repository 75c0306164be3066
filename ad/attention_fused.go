package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

// CausalSelfAttention records multi-head causal self-attention on a fused
// Q|K|V projection, without copying the heads out of it: qkv has shape
// (B·T, 3D) with D = heads·E, Q, K and V in its three column blocks and
// head h in columns h·E … h·E+E−1 of each, and
//
//	P_bh = Softmax(scale·Q_bh·K_bhᵀ, causal)       (T×T per sequence b, head h)
//	y[b·T + t, h·E + e] = Σ_{s ≤ t} P_bh[t, s]·V_bh[s, e]
//
// of shape (B·T, D): the same values, gradients and tangents as
//
//	MergeHeads(BatchMatMul(Softmax(BatchMatMul(Q, K, true), scale, true), V, false))
//
// with Q, K, V = SplitHeads(qkv, batch, heads, 0|1|2, 3), rule for rule
// (TestCausalSelfAttentionMatchesComposition). The products read the heads
// in place (leading dimension 3D) and, for T above attnBlock, skip the
// blocks of the T×T matrices that the mask makes zero. The probabilities P
// are kept for the reverse and jet rules.
func CausalSelfAttention[T Float](t *Tape[T], qkv *Var[T], batch, heads int, scale float64) *Var[T] {
	xs := qkv.Shape()
	if len(xs) != 2 || batch <= 0 || heads <= 0 || xs[0]%batch != 0 || xs[1]%(3*heads) != 0 {
		panic(fmt.Sprintf("ad: CausalSelfAttention: input %v is not (batch %d × T, 3 × %d heads × E)", xs, batch, heads))
	}
	n, d := xs[0]/batch, xs[1]/3
	y, op := record[attentionOp[T]](t, []int{xs[0], d}, qkv)
	op.b, op.h, op.t, op.e, op.d = batch, heads, n, d/heads, d
	op.sm.scale, op.sm.causal, op.sm.q, op.sm.k = scale, true, n, n // field by field: its scratch stays
	return run(y)
}

// attentionOp keeps the probabilities p (B·H·T·T, one T×T matrix per
// sequence and head) of the last Forward, and T×T scratch for one head.
type attentionOp[T Float] struct {
	b, h, t, e, d int
	sm            softmaxOp[T] // the causal softmax of one head's T×T scores
	p             []T
	s1, s2        []T // scores or their gradient, and their tangents
	p1, p2        []T // the probabilities' tangents
}

// attnBlock is the number of query rows per block: the rows [i0, i0+attnBlock)
// of the T×T matrices see only keys [0, i0+attnBlock), so the products run
// on those columns alone. Blocks save flops on long contexts but cost a
// GEMM call (and its packing) each: at the default T = 64 one block of 64
// was 10 % faster than two of 32 and 20 % faster than four of 16 for the
// attention's forward and backward (BenchmarkAttention).
const attnBlock = 64

func (*attentionOp[T]) Name() string { return "CausalSelfAttention" }

func (*attentionOp[T]) writesGrad() {}

// head returns, for sequence b and head h, the offsets of Q, K and V in
// qkv's layout (leading dimension 3D) and of the head's output block in
// y's (leading dimension D).
func (op *attentionOp[T]) head(b, h int) (q, k, v, o int) {
	q = b*op.t*3*op.d + h*op.e
	return q, q + op.d, q + 2*op.d, b*op.t*op.d + h*op.e
}

// pAt returns the probabilities of sequence b, head h.
func (op *attentionOp[T]) pAt(b, h int) []T {
	tt := op.t * op.t
	return op.p[(b*op.h+h)*tt:][:tt]
}

// scores writes s[i, j] = Σ_e a[i, e]·c[j, e] for the visible j ≤ i (and
// some masked ones) of a head, a and c read in qkv's layout at offsets ao
// and co; beta 0 overwrites, 1 accumulates, alpha scales.
func (op *attentionOp[T]) scores(alpha T, a []T, ao int, c []T, co int, beta T, s []T) {
	tt, ld := op.t, 3*op.d
	for i0 := 0; i0 < tt; i0 += attnBlock {
		i1 := min(i0+attnBlock, tt)
		kernel.Gemm(false, true, i1-i0, i1, op.e, alpha, a[ao+i0*ld:], ld, c[co:], ld, beta, s[i0*tt:], tt)
	}
}

// apply writes out[i, e] (+)= alpha·Σ_{j ≤ i} p[i, j]·v[j, e] for a head:
// p a T×T matrix whose masked entries are 0, v in qkv's layout at offset vo,
// out with leading dimension ldo at offset oo.
func (op *attentionOp[T]) apply(alpha T, p, v []T, vo int, beta T, out []T, oo, ldo int) {
	tt, ld := op.t, 3*op.d
	for i0 := 0; i0 < tt; i0 += attnBlock {
		i1 := min(i0+attnBlock, tt)
		kernel.Gemm(false, false, i1-i0, op.e, i1, alpha, p[i0*tt:], tt, v[vo:], ld, beta, out[oo+i0*ldo:], ldo)
	}
}

// applyT writes out[j, e] (+)= Σ_{i ≥ j} p[i, j]·g[i, e] for a head (pᵀ·g):
// p a T×T matrix whose masked entries are 0, g with leading dimension ldg
// at offset gofs, out in qkv's layout at offset oo; beta 0 overwrites, 1
// accumulates. The blocks of rows overlap in out, so beta 0 needs T ≤
// attnBlock.
func (op *attentionOp[T]) applyT(p, g []T, gofs, ldg int, beta T, out []T, oo int) {
	tt, ld := op.t, 3*op.d
	for i0 := 0; i0 < tt; i0 += attnBlock {
		i1 := min(i0+attnBlock, tt)
		kernel.Gemm(true, false, i1, op.e, i1-i0, 1, p[i0*tt:], tt, g[gofs+i0*ldg:], ldg, beta, out[oo:], ld)
	}
}

func (op *attentionOp[T]) Forward(y *Var[T]) {
	x, out := y.in[0].Value.Data(), y.Value.Data()
	tt := op.t * op.t
	op.p = resize(op.p, op.b*op.h*tt)
	op.s1 = resize(op.s1, tt)
	for b := range op.b {
		for h := range op.h {
			qo, ko, vo, oo := op.head(b, h)
			p := op.pAt(b, h)
			op.scores(1, x, qo, x, ko, 0, op.s1)
			op.sm.forwardRows(p, op.s1)
			op.apply(1, p, x, vo, 0, out, oo, op.d)
		}
	}
}

// VJP, per head with Ȳ the head's block of ȳ:
//
//	V̄ += Pᵀ·Ȳ,   P̄ = Ȳ·Vᵀ,   S̄ = Softmax's VJP of P̄,   Q̄ += S̄·K,   K̄ += S̄ᵀ·Q
//
// with S̄ zero on the masked entries; = instead of += where the gradient
// holds nothing yet (each element of Q̄, K̄, V̄ is written by one head).
func (op *attentionOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	xv, xg, gy := x.Value.Data(), x.Grad.Data(), y.Grad.Data()
	beta := x.gradBeta()
	if beta == 0 && op.t > attnBlock {
		clear(xg) // applyT's blocks overlap: it can only accumulate
		beta = 1
	}
	op.s2 = resize(op.s2, op.t*op.t)
	dp, ds := op.s1, op.s2
	for b := range op.b {
		for h := range op.h {
			qo, ko, vo, oo := op.head(b, h)
			p := op.pAt(b, h)
			op.applyT(p, gy, oo, op.d, beta, xg, vo)
			// P̄ = Ȳ·Vᵀ on the visible blocks: the scores of Ȳ against V.
			op.gradScores(gy, oo, xv, vo, dp)
			clear(ds)
			op.sm.vjpRows(ds, p, dp)
			op.apply(1, ds, xv, ko, beta, xg, qo, 3*op.d)
			op.applyT(ds, xv, qo, 3*op.d, beta, xg, ko)
		}
	}
}

// gradScores writes s[i, j] = Σ_e g[i, e]·v[j, e] for j in the blocks of
// visible keys: g with leading dimension D at offset gofs, v in qkv's
// layout at offset vo.
func (op *attentionOp[T]) gradScores(g []T, gofs int, v []T, vo int, s []T) {
	tt, ld := op.t, 3*op.d
	for i0 := 0; i0 < tt; i0 += attnBlock {
		i1 := min(i0+attnBlock, tt)
		kernel.Gemm(false, true, i1-i0, i1, op.e, 1, g[gofs+i0*op.d:], op.d, v[vo:], ld, 0, s[i0*tt:], tt)
	}
}

// Jet, per head, the rules of the composition:
//
//	Ṡ = Q̇·Kᵀ + Q·K̇ᵀ,              S̈ = Q̈·Kᵀ + Q·K̈ᵀ + 2·Q̇·K̇ᵀ
//	Ṗ, P̈ = Softmax's jet of (Ṡ, S̈)  (scale and mask included)
//	Ẏ = Ṗ·V + P·V̇,                Ÿ = P̈·V + P·V̈ + 2·Ṗ·V̇
//
// The cross terms 2·Q̇·K̇ᵀ and 2·Ṗ·V̇ and the softmax's bracket are the own
// curvature, kept only with curv.
func (op *attentionOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	xv := x.Value.Data()
	d1, d2 := y.d1.Data(), y.d2.Data()
	if !x.hasD1 && !x.hasD2 {
		clear(d1)
		return false
	}
	var xd1, xd2 []T
	if x.hasD1 {
		xd1 = x.d1.Data()
	}
	if x.hasD2 {
		xd2 = x.d2.Data()
	}
	tt, ld := op.t*op.t, op.d
	op.s1, op.s2 = resize(op.s1, tt), resize(op.s2, tt)
	op.p1, op.p2 = resize(op.p1, tt), resize(op.p2, tt)
	cross := curv && x.hasD1
	wrote := x.hasD2 || cross
	for b := range op.b {
		for h := range op.h {
			qo, ko, vo, oo := op.head(b, h)
			p := op.pAt(b, h)
			var s1, s2 []T
			if x.hasD1 {
				s1 = op.s1
				op.scores(1, xd1, qo, xv, ko, 0, s1)
				op.scores(1, xv, qo, xd1, ko, 1, s1)
			}
			if wrote {
				s2 = op.s2
				beta := T(0)
				if x.hasD2 {
					op.scores(1, xd2, qo, xv, ko, 0, s2)
					op.scores(1, xv, qo, xd2, ko, 1, s2)
					beta = 1
				}
				if cross {
					op.scores(2, xd1, qo, xd1, ko, beta, s2)
				}
			}
			op.sm.jetRows(op.p1, op.p2, p, s1, s2, curv)
			// Ẏ = Ṗ·V + P·V̇ (Ṗ is zero without a first tangent).
			op.apply(1, op.p1, xv, vo, 0, d1, oo, ld)
			if x.hasD1 {
				op.apply(1, p, xd1, vo, 1, d1, oo, ld)
			}
			if wrote {
				op.apply(1, op.p2, xv, vo, 0, d2, oo, ld)
				if x.hasD2 {
					op.apply(1, p, xd2, vo, 1, d2, oo, ld)
				}
				if cross {
					op.apply(2, op.p1, xd1, vo, 1, d2, oo, ld)
				}
			}
		}
	}
	return wrote
}
