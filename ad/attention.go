package ad

import (
	"fmt"
	"math"
	"slices"

	"github.com/genopt/gen/internal/kernel"
)

// Shapes in this file: B examples of T positions, H heads of width E, model
// width D = H·E. Batched operands have leading axes (B, H) (any number of
// leading axes, equal on both sides) and matrices in their last two axes.

// BatchMatMul records the product of two recorded values, batched over
// their leading axes:
//
//	C[…] = A[…]·op(B[…])
//
// with A of shape (…, M, K), B of shape (…, K, N), or (…, N, K) when transB
// is set (op(B) = Bᵀ), and C of shape (…, M, N). Both factors may depend on
// the parameters (attention's Q·Kᵀ and P·V): the jet carries the cross term
// 2·Ȧ·op(Ḃ), the product's own curvature.
func BatchMatMul[T Float](t *Tape[T], a, b *Var[T], transB bool) *Var[T] {
	as, bs := a.Shape(), b.Shape()
	if len(as) < 2 || len(as) != len(bs) || !slices.Equal(as[:len(as)-2], bs[:len(bs)-2]) {
		panic(fmt.Sprintf("ad: BatchMatMul: shapes %v and %v: want (…, M, K) and (…, K, N) with equal leading axes", as, bs))
	}
	r := len(as)
	m, k := as[r-2], as[r-1]
	kb, n := bs[r-2], bs[r-1]
	if transB {
		kb, n = n, kb
	}
	if k != kb {
		panic(fmt.Sprintf("ad: BatchMatMul(transB=%v): shapes %v and %v do not fit", transB, as, bs))
	}
	y, op := recordUnsized[batchMatMulOp[T]](t, a, b)
	y.shape = append(append(y.shape[:0], as[:r-2]...), m, n)
	y.Value.Resize(y.shape...)
	op.transB, op.m, op.n, op.k = transB, m, n, k
	op.batch = 1
	for _, d := range as[:r-2] {
		op.batch *= d
	}
	return run(y)
}

type batchMatMulOp[T Float] struct {
	transB         bool
	m, n, k, batch int
}

func (*batchMatMulOp[T]) Name() string { return "BatchMatMul" }

// gemm computes c = alpha·op(a)·op(b) + beta·c for every matrix of the
// batch, where op(a) is p×q, op(b) is q×s and c is p×s.
func (op *batchMatMulOp[T]) gemm(transA, transB bool, p, s, q int, alpha T, a, b []T, beta T, c []T) {
	lda, ldb := q, s
	if transA {
		lda = p
	}
	if transB {
		ldb = q
	}
	for i := range op.batch {
		kernel.Gemm(transA, transB, p, s, q, alpha, a[i*p*q:(i+1)*p*q], lda, b[i*q*s:(i+1)*q*s], ldb, beta, c[i*p*s:(i+1)*p*s], s)
	}
}

// mul computes c = alpha·a·op(b) + beta·c, the forward product on other
// operands (values or tangents).
func (op *batchMatMulOp[T]) mul(alpha T, a, b []T, beta T, c []T) {
	op.gemm(false, op.transB, op.m, op.n, op.k, alpha, a, b, beta, c)
}

func (op *batchMatMulOp[T]) Forward(y *Var[T]) {
	op.mul(1, y.in[0].Value.Data(), y.in[1].Value.Data(), 0, y.Value.Data())
}

// VJP: Ā += C̄·op(B)ᵀ;  B̄ += Aᵀ·C̄ (or, with transB, B̄ += C̄ᵀ·A).
func (op *batchMatMulOp[T]) VJP(y *Var[T]) {
	a, b := y.in[0], y.in[1]
	m, n, k := op.m, op.n, op.k
	if a.needsGrad {
		// op(B)ᵀ is B (N×K) with transB, Bᵀ of the K×N B without.
		op.gemm(false, !op.transB, m, k, n, 1, y.Grad.Data(), b.Value.Data(), 1, a.Grad.Data())
	}
	if b.needsGrad {
		if op.transB {
			op.gemm(true, false, n, k, m, 1, y.Grad.Data(), a.Value.Data(), 1, b.Grad.Data())
		} else {
			op.gemm(true, false, k, n, m, 1, a.Value.Data(), y.Grad.Data(), 1, b.Grad.Data())
		}
	}
}

// Jet:
//
//	Ċ = Ȧ·op(B) + A·op(Ḃ)
//	C̈ = Ä·op(B) + A·op(B̈) + 2·Ȧ·op(Ḃ)
//
// The cross term 2·Ȧ·op(Ḃ) is the product's own curvature.
func (op *batchMatMulOp[T]) Jet(y *Var[T], curv bool) bool {
	a, b := y.in[0], y.in[1]
	av, bv := a.Value.Data(), b.Value.Data()
	d1, d2 := y.d1.Data(), y.d2.Data()
	beta := T(0)
	if a.hasD1 {
		op.mul(1, a.d1.Data(), bv, beta, d1)
		beta = 1
	}
	if b.hasD1 {
		op.mul(1, av, b.d1.Data(), beta, d1)
		beta = 1
	}
	if beta == 0 {
		clear(d1)
	}
	wrote := false
	if a.hasD2 {
		op.mul(1, a.d2.Data(), bv, 0, d2)
		wrote = true
	}
	if b.hasD2 {
		op.mul(1, av, b.d2.Data(), b2f[T](wrote), d2)
		wrote = true
	}
	if curv && a.hasD1 && b.hasD1 {
		op.mul(2, a.d1.Data(), b.d1.Data(), b2f[T](wrote), d2)
		wrote = true
	}
	return wrote
}

// Softmax records the row-wise softmax of scale·x over the last axis, with
// an optional causal mask:
//
//	y_ij = exp(scale·x_ij) / Σ_{l visible} exp(scale·x_il)   for j visible,
//	y_ij = 0                                                  otherwise.
//
// x has shape (…, Q, K). Without the mask every j is visible; with causal
// set, row i (of the Q rows of each matrix) sees j ≤ i + K − Q — with Q = K
// the usual lower triangle of decoder self-attention (Vaswani et al.,
// "Attention is all you need", NeurIPS 2017, §3.2.3), with Q < K the last
// Q positions of K, as when new queries attend to cached keys. A masked
// entry is the additive mask −∞: its output, gradient and tangents are
// exactly 0 whatever x holds there. Sums are accumulated in float64; in
// float32 the exponentials are float32's (kernel.ExpScaled32).
func Softmax[T Float](t *Tape[T], x *Var[T], scale float64, causal bool) *Var[T] {
	xs := x.Shape()
	if len(xs) < 2 {
		panic(fmt.Sprintf("ad: Softmax: input %v, want (…, Q, K)", xs))
	}
	q, k := xs[len(xs)-2], xs[len(xs)-1]
	if causal && q > k {
		panic(fmt.Sprintf("ad: Softmax: causal mask on %v needs Q ≤ K", xs))
	}
	y, op := record[softmaxOp[T]](t, xs, x)
	op.scale, op.causal, op.q, op.k = scale, causal, q, k
	return run(y)
}

type softmaxOp[T Float] struct {
	scale  float64
	causal bool
	q, k   int
	ones   []float32 // k ones for forward32's vector sum
}

func (op *softmaxOp[T]) Name() string {
	if op.causal {
		return "Softmax(causal)"
	}
	return "Softmax"
}

// visible returns how many leading entries of row r (counted over all
// matrices) are visible.
func (op *softmaxOp[T]) visible(r int) int {
	if !op.causal {
		return op.k
	}
	return r%op.q + op.k - op.q + 1
}

func (op *softmaxOp[T]) Forward(y *Var[T]) { op.forwardRows(y.Value.Data(), y.in[0].Value.Data()) }

// forwardRows writes the softmax of every row of x into out (the layout of
// Forward; the fused attention calls it on one head's scores).
func (op *softmaxOp[T]) forwardRows(out, x []T) {
	k := op.k
	if x32, ok := any(x).([]float32); ok {
		op.forward32(any(out).([]float32), x32)
		return
	}
	for r := range len(x) / max(k, 1) {
		row, o := x[r*k:(r+1)*k], out[r*k:(r+1)*k]
		v := op.visible(r)
		mx := math.Inf(-1)
		for _, e := range row[:v] {
			mx = max(mx, op.scale*float64(e))
		}
		var s float64
		for j, e := range row[:v] {
			p := math.Exp(op.scale*float64(e) - mx)
			o[j] = T(p)
			s += p
		}
		inv := 1 / s
		for j := range o[:v] {
			o[j] = T(float64(o[j]) * inv)
		}
		clear(o[v:])
	}
}

// forward32 is Forward in float32: the row's largest scale·x in float32,
// the exponentials eight at a time (kernel.ExpScaled32, a few ulps from
// math.Exp), their sum in float64. Only the visible entries are computed.
func (op *softmaxOp[T]) forward32(out, x []float32) {
	k := op.k
	scale := float32(op.scale)
	if len(op.ones) != k {
		op.ones = make([]float32, k)
		for j := range op.ones {
			op.ones[j] = 1
		}
	}
	for r := range len(x) / max(k, 1) {
		v := op.visible(r)
		row, o := x[r*k:r*k+v], out[r*k:(r+1)*k]
		mx := scaledMax32(row, scale)
		// The exponentials run on whole blocks of 16 or 8 where the row
		// has room: the masked entries among them are computed (whatever
		// they hold) and cleared below.
		vv := (v + 15) &^ 15
		if vv > k {
			vv = min((v+7)&^7, k)
		}
		kernel.ExpScaled32(o[:vv], x[r*k:r*k+vv], scale, mx)
		inv := float32(1 / kernel.Dot(o[:v], op.ones[:v]))
		for j := range o[:v] {
			o[j] *= inv
		}
		clear(o[v:])
	}
}

// scaledMax32 returns max_j scale·x_j in float32 (NaN if any is NaN), in
// four independent running maxima. For scale > 0 it is scale·max_j x_j
// (kernel.Max32, 16 at a time), the same number: rounding is monotonic, so
// the largest x gives the largest rounded product. Of +0 and −0 either may
// come back; the softmax subtracts it before an exponential, where both
// give the same bits.
func scaledMax32(x []float32, scale float32) float32 {
	if scale > 0 {
		return scale * kernel.Max32(x)
	}
	inf := float32(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	j := 0
	for ; j+4 <= len(x); j += 4 {
		m0 = max(m0, scale*x[j])
		m1 = max(m1, scale*x[j+1])
		m2 = max(m2, scale*x[j+2])
		m3 = max(m3, scale*x[j+3])
	}
	for ; j < len(x); j++ {
		m0 = max(m0, scale*x[j])
	}
	return max(max(m0, m1), max(m2, m3))
}

// VJP: x̄_j += scale·y_j·(ȳ_j − Σ_l ȳ_l·y_l) on the visible entries.
func (op *softmaxOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if x.needsGrad {
		op.vjpRows(x.Grad.Data(), y.Value.Data(), y.Grad.Data())
	}
}

// vjpRows adds the VJP of outputs p with output gradient g into xg, row by
// row; masked entries of xg are left as they are.
func (op *softmaxOp[T]) vjpRows(xg, p, g []T) {
	k := op.k
	for r := range len(p) / max(k, 1) {
		v := op.visible(r)
		pr, gr, xr := p[r*k:r*k+v], g[r*k:r*k+v], xg[r*k:r*k+v]
		// Σ y·ȳ in float64 (a vector dot product in float32), the
		// elementwise terms in T's precision.
		s, sc := T(kernel.Dot(pr, gr)), T(op.scale)
		for j, e := range pr {
			xr[j] += sc * e * (gr[j] - s)
		}
	}
}

// Jet, with z = scale·x on the visible entries of a row and ⟨·⟩ the mean
// under y:
//
//	ẏ = y⊙(ż − ⟨ż⟩)
//	ÿ = y⊙(z̈ − ⟨z̈⟩) + [ẏ⊙(ż − ⟨ż⟩) − y·Σ_l ẏ_l·ż_l]
//
// The bracket is the softmax's own curvature.
func (op *softmaxOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	var xd1, xd2 []T
	if x.hasD1 {
		xd1 = x.d1.Data()
	}
	if x.hasD2 {
		xd2 = x.d2.Data()
	}
	return op.jetRows(y.d1.Data(), y.d2.Data(), y.Value.Data(), xd1, xd2, curv)
}

// jetRows writes the tangents of outputs p into d1 and d2 from the input
// tangents xd1 and xd2 (nil when zero), row by row, and reports whether it
// wrote d2 (else d2 is zero and untouched); d1 is always written.
func (op *softmaxOp[T]) jetRows(d1, d2, p, xd1, xd2 []T, curv bool) bool {
	hasD1, hasD2 := xd1 != nil, xd2 != nil
	wrote := hasD2 || (curv && hasD1)
	if !hasD1 {
		clear(d1)
	}
	if wrote {
		clear(d2)
	}
	k, sc := op.k, op.scale
	st := T(sc)
	for r := range len(p) / max(k, 1) {
		v := op.visible(r)
		pr := p[r*k : r*k+v]
		// Sums in float64 (vector dot products of float32 values, exact
		// products), the elementwise terms in T's precision.
		if hasD1 {
			xd, o := xd1[r*k:r*k+v], d1[r*k:(r+1)*k]
			m := T(sc * kernel.Dot(pr, xd))
			for j, e := range pr {
				o[j] = e * (st*xd[j] - m)
			}
			cross := T(sc * kernel.Dot(o[:v], xd))
			clear(o[v:])
			if curv {
				o2 := d2[r*k : r*k+v]
				for j, e := range pr {
					zc := st*xd[j] - m
					o2[j] = e * (zc*zc - cross)
				}
			}
		}
		if hasD2 {
			xdd, o2 := xd2[r*k:r*k+v], d2[r*k:r*k+v]
			m := T(sc * kernel.Dot(pr, xdd))
			for j, e := range pr {
				o2[j] += e * (st*xdd[j] - m)
			}
		}
	}
	return wrote
}

// SplitHeads records the view of part `part` of `parts` equal column blocks
// of x as heads: x has shape (B·T, parts·D), D = heads·E, and
//
//	y[b, h, t, e] = x[b·T + t, part·D + h·E + e]
//
// of shape (B, heads, T, E). With parts = 3 it takes Q, K or V out of a
// fused Q|K|V projection. It is linear (a copy): no own curvature.
func SplitHeads[T Float](t *Tape[T], x *Var[T], batch, heads, part, parts int) *Var[T] {
	xs := x.Shape()
	if len(xs) != 2 || batch <= 0 || heads <= 0 || parts <= 0 || part < 0 || part >= parts ||
		xs[0]%batch != 0 || xs[1]%(parts*heads) != 0 {
		panic(fmt.Sprintf("ad: SplitHeads: input %v does not split into batch %d × T rows and part %d of %d blocks of %d heads", xs, batch, part, parts, heads))
	}
	tt, e := xs[0]/batch, xs[1]/(parts*heads)
	y, op := record[headsOp[T]](t, []int{batch, heads, tt, e}, x)
	*op = headsOp[T]{merge: false, b: batch, h: heads, t: tt, e: e, off: part * heads * e, ld: xs[1]}
	return run(y)
}

// MergeHeads records the inverse of SplitHeads with one part: x has shape
// (B, H, T, E) and
//
//	y[b·T + t, h·E + e] = x[b, h, t, e]
//
// of shape (B·T, H·E), the concatenation of the heads' outputs.
func MergeHeads[T Float](t *Tape[T], x *Var[T]) *Var[T] {
	xs := x.Shape()
	if len(xs) != 4 {
		panic(fmt.Sprintf("ad: MergeHeads: input %v, want (B, H, T, E)", xs))
	}
	b, h, tt, e := xs[0], xs[1], xs[2], xs[3]
	y, op := record[headsOp[T]](t, []int{b * tt, h * e}, x)
	*op = headsOp[T]{merge: true, b: b, h: h, t: tt, e: e, off: 0, ld: h * e}
	return run(y)
}

// headsOp moves blocks of E elements between the row layout (B·T, ld),
// starting at column off, and the head layout (B, H, T, E); merge says which
// way the forward rule goes.
type headsOp[T Float] struct {
	merge      bool
	b, h, t, e int
	off, ld    int
}

func (op *headsOp[T]) Name() string {
	if op.merge {
		return "MergeHeads"
	}
	return "SplitHeads"
}

// move copies (toHeads) or accumulates/copies back (to rows) between rows
// and heads. acc adds instead of copying into the destination.
func (op *headsOp[T]) move(rows, heads []T, toHeads, acc bool) {
	e := op.e
	for b := range op.b {
		for h := range op.h {
			for t := range op.t {
				r := rows[(b*op.t+t)*op.ld+op.off+h*e:][:e]
				q := heads[((b*op.h+h)*op.t+t)*e:][:e]
				switch {
				case toHeads && acc:
					for i, v := range r {
						q[i] += v
					}
				case toHeads:
					copy(q, r)
				case acc:
					for i, v := range q {
						r[i] += v
					}
				default:
					copy(r, q)
				}
			}
		}
	}
}

// apply runs the forward map from src (input layout) to dst (output layout).
func (op *headsOp[T]) apply(dst, src []T) {
	if op.merge {
		op.move(dst, src, false, false)
	} else {
		op.move(src, dst, true, false)
	}
}

func (op *headsOp[T]) Forward(y *Var[T]) { op.apply(y.Value.Data(), y.in[0].Value.Data()) }

// VJP: x̄ += the inverse map of ȳ.
func (op *headsOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	if op.merge {
		op.move(y.Grad.Data(), x.Grad.Data(), true, true)
	} else {
		op.move(x.Grad.Data(), y.Grad.Data(), false, true)
	}
}

// Jet: the tangents are moved like the value.
func (op *headsOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	if x.hasD1 {
		op.apply(y.d1.Data(), x.d1.Data())
	} else {
		clear(y.d1.Data())
	}
	if x.hasD2 {
		op.apply(y.d2.Data(), x.d2.Data())
	}
	return x.hasD2
}
