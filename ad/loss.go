package ad

import (
	"fmt"
	"math"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// Shapes in this file: predictions and targets are M×K (M examples of K
// outputs; any shape whose leading dimension is M), logits are M×C (C
// classes), labels has M entries in [0, C).

// MeanSquaredError records the mean of squared errors over all elements,
//
//	L = 1/(M·K) · Σ_{i,j} (ŷ_ij − y_ij)²
//
// as PyTorch's MSELoss with mean reduction. target is data (no gradient).
func MeanSquaredError[T Float](t *Tape[T], pred *Var[T], target *tensor.Tensor[T]) *Var[T] {
	return sqErr(t, "MeanSquaredError", pred, target, 1/float64(pred.Value.Len()))
}

// HalfSquaredError records the source text's loss,
//
//	L = 1/(2M) · Σ_i ‖ŷ_i − y_i‖²
//
// with M the leading dimension of pred. target is data (no gradient).
func HalfSquaredError[T Float](t *Tape[T], pred *Var[T], target *tensor.Tensor[T]) *Var[T] {
	return sqErr(t, "HalfSquaredError", pred, target, 1/(2*float64(pred.Value.Rows())))
}

func sqErr[T Float](t *Tape[T], name string, pred *Var[T], target *tensor.Tensor[T], c float64) *Var[T] {
	if !tensor.SameShape(pred.Value, target) {
		panic(fmt.Sprintf("ad: %s: prediction %v and target %v differ in shape", name, pred.Shape(), target.Shape()))
	}
	y, op := record[sqErrOp[T]](t, nil, pred)
	op.name, op.target, op.c = name, target, c
	return run(y)
}

// sqErrOp is L = c·Σ (p − target)².
type sqErrOp[T Float] struct {
	name   string
	target *tensor.Tensor[T]
	c      float64
	v64    float64 // the loss accumulated in float64
	j1, j2 float64 // the tangents of the last Jet, in float64
}

func (op *sqErrOp[T]) value64() float64 { return op.v64 }

func (op *sqErrOp[T]) jet64() (d1, d2 float64) { return op.j1, op.j2 }

func (*sqErrOp[T]) lossCurvature() {}

func (op *sqErrOp[T]) Name() string { return op.name }

func (op *sqErrOp[T]) Forward(y *Var[T]) {
	p, q := y.in[0].Value.Data(), op.target.Data()
	var s float64
	for i, v := range p {
		e := float64(v) - float64(q[i])
		s += e * e
	}
	op.v64 = op.c * s
	y.Value.Data()[0] = T(op.v64)
}

// VJP: p̄ += 2c·ȳ·(p − target).
func (op *sqErrOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	k := T(2 * op.c * float64(y.Grad.Data()[0]))
	p, q, g := x.Value.Data(), op.target.Data(), x.Grad.Data()
	for i, v := range p {
		g[i] += k * (v - q[i])
	}
}

// Jet with e = p − target:  L̇ = 2c·⟨e, ė⟩,  L̈ = 2c·(‖ė‖² + ⟨e, ë⟩). The
// ‖ė‖² term is the loss's own curvature (kept in Gauss–Newton mode).
func (op *sqErrOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	p, q := x.Value.Data(), op.target.Data()
	var s1, s2 float64
	if x.hasD1 {
		for i, v := range x.d1.Data() {
			dv := float64(v)
			s1 += (float64(p[i]) - float64(q[i])) * dv
			s2 += dv * dv
		}
	}
	if !curv {
		s2 = 0
	}
	if x.hasD2 {
		for i, v := range x.d2.Data() {
			s2 += (float64(p[i]) - float64(q[i])) * float64(v)
		}
	}
	op.j1, op.j2 = 2*op.c*s1, 2*op.c*s2
	y.d1.Data()[0] = T(op.j1)
	y.d2.Data()[0] = T(op.j2)
	return true
}

func checkLabels[T Float](name string, x *Var[T], labels []int) (m, c int) {
	s := x.Shape()
	if len(s) != 2 || s[0] != len(labels) {
		panic(fmt.Sprintf("ad: %s: input %v does not fit %d labels (want M×C)", name, s, len(labels)))
	}
	m, c = s[0], s[1]
	for i, l := range labels {
		if l < 0 || l >= c {
			panic(fmt.Sprintf("ad: %s: label %d of example %d is outside [0, %d)", name, l, i, c))
		}
	}
	return m, c
}

// SoftmaxCrossEntropy records the mean cross-entropy of the softmax of the
// logits z (M×C) against integer labels:
//
//	L = 1/M · Σ_i ( logΣ_j exp z_ij − z_i,label_i )
//
// computed stably (max-shifted log-sum-exp). labels is read at Forward time
// and must not change while the tape is in use.
func SoftmaxCrossEntropy[T Float](t *Tape[T], logits *Var[T], labels []int) *Var[T] {
	checkLabels("SoftmaxCrossEntropy", logits, labels)
	y, op := record[softmaxCEOp[T]](t, nil, logits)
	op.labels = labels
	return run(y)
}

// softmaxCEOp caches the softmax probabilities p (M×C) of the forward pass,
// in float64 so that the jet's tangents carry no rounding of T.
type softmaxCEOp[T Float] struct {
	labels []int
	p      []float64
	mx     []float64 // each row's maximum logit, scratch of Forward
	v64    float64   // the loss accumulated in float64
	j1, j2 float64   // the tangents of the last Jet, in float64
}

func (op *softmaxCEOp[T]) value64() float64 { return op.v64 }

func (op *softmaxCEOp[T]) jet64() (d1, d2 float64) { return op.j1, op.j2 }

func (*softmaxCEOp[T]) lossCurvature() {}

func (*softmaxCEOp[T]) Name() string { return "SoftmaxCrossEntropy" }

func (op *softmaxCEOp[T]) Forward(y *Var[T]) {
	z := y.in[0].Value
	m, c := z.Rows(), z.Cols()
	op.p = resize(op.p, m*c)
	zd := z.Data()
	// softmaxRow's values, its steps reordered: every row's shifted logits,
	// then all their exponentials in one vector call (kernel.Exp64, the
	// bits of math.Exp), then each row's sum, probabilities and
	// log-sum-exp in softmaxRow's order.
	op.mx = resize(op.mx, m)
	for i := range m {
		row, p := zd[i*c:(i+1)*c], op.p[i*c:(i+1)*c]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v))
		}
		for j, v := range row {
			p[j] = float64(v) - mx
		}
		op.mx[i] = mx
	}
	kernel.Exp64(op.p, op.p)
	var total float64
	for i := range m {
		p := op.p[i*c : (i+1)*c]
		var s float64
		for _, e := range p {
			s += e
		}
		inv := 1 / s
		for j := range p {
			p[j] *= inv
		}
		total += op.mx[i] + math.Log(s) - float64(zd[i*c+op.labels[i]])
	}
	op.v64 = total / float64(m)
	y.Value.Data()[0] = T(op.v64)
}

// softmaxRow writes p = softmax(z) for one row and returns logΣ_j exp z_j,
// both computed in float64 with the maximum shifted out so that no exp
// overflows; p is rounded once to its element type P.
func softmaxRow[P, T Float](p []P, z []T) (lse float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	var s float64
	p = p[:len(z)]
	for j, v := range z {
		e := math.Exp(float64(v) - mx)
		p[j] = P(e)
		s += e
	}
	inv := 1 / s
	for j := range p {
		p[j] = P(float64(p[j]) * inv)
	}
	return mx + math.Log(s)
}

// VJP: z̄_ij += ȳ/M · (p_ij − [j = label_i]) (= where z̄ holds nothing yet).
func (op *softmaxCEOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	m, c := x.Value.Rows(), x.Value.Cols()
	k := y.Grad.Data()[0] / T(m)
	g := x.Grad.Data()
	acc := x.gradBeta() == 1
	for i := range m {
		gr, pr := g[i*c:(i+1)*c], op.p[i*c:(i+1)*c]
		if acc {
			for j, pv := range pr {
				gr[j] += k * T(pv)
			}
		} else {
			for j, pv := range pr {
				gr[j] = k * T(pv)
			}
		}
		gr[op.labels[i]] -= k
	}
}

func (*softmaxCEOp[T]) writesGrad() {}

// Jet, per row with p = softmax(z):
//
//	L̇ = 1/M Σ_i (⟨p, ż⟩ − ż_label)
//	L̈ = 1/M Σ_i (żᵀ(diag p − ppᵀ)ż + ⟨p, z̈⟩ − z̈_label)
//
// The quadratic form in ż is the loss's own curvature (kept in
// Gauss–Newton mode); it is ≥ 0.
func (op *softmaxCEOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	m, c := x.Value.Rows(), x.Value.Cols()
	var s1, s2 float64
	for i := range m {
		pr := op.p[i*c : (i+1)*c]
		lab := op.labels[i]
		if x.hasD1 {
			zr := x.d1.Data()[i*c : (i+1)*c]
			var pz, pzz float64
			for j, p := range pr {
				z := float64(zr[j])
				pz += p * z
				pzz += p * z * z
			}
			s1 += pz - float64(zr[lab])
			if curv {
				s2 += pzz - pz*pz
			}
		}
		if x.hasD2 {
			zr := x.d2.Data()[i*c : (i+1)*c]
			var pz float64
			for j, p := range pr {
				pz += p * float64(zr[j])
			}
			s2 += pz - float64(zr[lab])
		}
	}
	op.j1, op.j2 = s1/float64(m), s2/float64(m)
	y.d1.Data()[0] = T(op.j1)
	y.d2.Data()[0] = T(op.j2)
	return true
}

// LogSoftmax records the row-wise log-softmax of z (M×C),
//
//	y_ij = z_ij − logΣ_k exp z_ik.
//
// In Gauss–Newton mode it counts as part of the loss (with NLL it forms the
// cross-entropy), so it keeps its own curvature wherever it sits; anywhere
// but under NLL that makes the result indefinite (see GaussNewton).
func LogSoftmax[T Float](t *Tape[T], z *Var[T]) *Var[T] {
	if z.Value.Rank() != 2 {
		panic(fmt.Sprintf("ad: LogSoftmax: input %v, want M×C", z.Shape()))
	}
	y, _ := record[logSoftmaxOp[T]](t, z.Shape(), z)
	return run(y)
}

// logSoftmaxOp caches p = softmax(z) (M×C).
type logSoftmaxOp[T Float] struct{ p []T }

func (*logSoftmaxOp[T]) lossCurvature() {}

func (*logSoftmaxOp[T]) Name() string { return "LogSoftmax" }

func (op *logSoftmaxOp[T]) Forward(y *Var[T]) {
	z := y.in[0].Value
	m, c := z.Rows(), z.Cols()
	op.p = resize(op.p, m*c)
	zd, yd := z.Data(), y.Value.Data()
	for i := range m {
		row := zd[i*c : (i+1)*c]
		lse := softmaxRow(op.p[i*c:(i+1)*c], row)
		for j, v := range row {
			yd[i*c+j] = T(float64(v) - lse)
		}
	}
}

// VJP: z̄_i += ȳ_i − p_i·Σ_j ȳ_ij, per row.
func (op *logSoftmaxOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	m, c := x.Value.Rows(), x.Value.Cols()
	g, gy := x.Grad.Data(), y.Grad.Data()
	for i := range m {
		gr, pr := gy[i*c:(i+1)*c], op.p[i*c:(i+1)*c]
		var s T
		for _, v := range gr {
			s += v
		}
		for j, v := range gr {
			g[i*c+j] += v - pr[j]*s
		}
	}
}

// Jet, per row:  ẏ = ż − ⟨p, ż⟩·1,
// ÿ = z̈ − ⟨p, z̈⟩·1 − (⟨p, ż²⟩ − ⟨p, ż⟩²)·1. The last term is the own
// curvature of log-sum-exp.
func (op *logSoftmaxOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	m, c := x.Value.Rows(), x.Value.Cols()
	if !x.hasD1 {
		tensor.Zero(y.d1)
	}
	wrote := x.hasD2 || (curv && x.hasD1)
	for i := range m {
		pr := op.p[i*c : (i+1)*c]
		var quad float64
		if x.hasD1 {
			zr, yr := x.d1.Data()[i*c:(i+1)*c], y.d1.Data()[i*c:(i+1)*c]
			var pz, pzz float64
			for j, pv := range pr {
				p, z := float64(pv), float64(zr[j])
				pz += p * z
				pzz += p * z * z
			}
			for j, z := range zr {
				yr[j] = z - T(pz)
			}
			if curv {
				quad = pzz - pz*pz
			}
		}
		if !wrote {
			continue
		}
		yr := y.d2.Data()[i*c : (i+1)*c]
		var pz float64
		if x.hasD2 {
			zr := x.d2.Data()[i*c : (i+1)*c]
			for j, pv := range pr {
				pz += float64(pv) * float64(zr[j])
			}
			for j, z := range zr {
				yr[j] = z - T(pz+quad)
			}
		} else {
			for j := range yr {
				yr[j] = -T(quad)
			}
		}
	}
	return wrote
}

// NLL records the mean negative log-likelihood of log-probabilities
// (M×C, e.g. from LogSoftmax) at integer labels:
//
//	L = −1/M · Σ_i logp_i,label_i.
func NLL[T Float](t *Tape[T], logp *Var[T], labels []int) *Var[T] {
	checkLabels("NLL", logp, labels)
	y, op := record[nllOp[T]](t, nil, logp)
	op.labels = labels
	return run(y)
}

type nllOp[T Float] struct {
	labels []int
	v64    float64 // the loss accumulated in float64
	j1, j2 float64 // the tangents of the last Jet, in float64
}

func (op *nllOp[T]) value64() float64 { return op.v64 }

func (op *nllOp[T]) jet64() (d1, d2 float64) { return op.j1, op.j2 }

func (*nllOp[T]) lossCurvature() {}

func (*nllOp[T]) Name() string { return "NLL" }

func (op *nllOp[T]) pick(x []T, c int) float64 {
	var s float64
	for i, l := range op.labels {
		s += float64(x[i*c+l])
	}
	return -s / float64(len(op.labels))
}

func (op *nllOp[T]) Forward(y *Var[T]) {
	x := y.in[0].Value
	op.v64 = op.pick(x.Data(), x.Cols())
	y.Value.Data()[0] = T(op.v64)
}

// VJP: x̄_i,label_i −= ȳ/M.
func (op *nllOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	c := x.Value.Cols()
	k := y.Grad.Data()[0] / T(len(op.labels))
	for i, l := range op.labels {
		x.Grad.Data()[i*c+l] -= k
	}
}

// Jet: linear in its input, so ẏ and ÿ pick the labelled entries of ẋ and ẍ.
func (op *nllOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	c := x.Value.Cols()
	op.j1, op.j2 = 0, 0
	if x.hasD1 {
		op.j1 = op.pick(x.d1.Data(), c)
	}
	if x.hasD2 {
		op.j2 = op.pick(x.d2.Data(), c)
	}
	y.d1.Data()[0] = T(op.j1)
	if x.hasD2 {
		y.d2.Data()[0] = T(op.j2)
	}
	return x.hasD2
}

// resize returns s with length n, reallocating only when its capacity is short.
func resize[E any](s []E, n int) []E {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]E, n)
}
