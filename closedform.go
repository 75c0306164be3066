package gen

import (
	"fmt"
	"math"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Shapes in this file: X is M×n0 (M examples of n0 inputs), Y is M×n1,
// W and V are n1×n0, b and c have n1 elements.

// SingleLayer is the one-layer fully-connected network of the source text,
//
//	ŷ(θ, x) = σ(W x + b),   L(θ) = 1/(2M) · Σ_i ‖ŷ(θ, x_i) − y_i‖²,
//
// with σ piecewise linear (Identity, ReLU, LeakyReLU). Along θ − α·u, as
// long as no pre-activation changes sign, L is exactly quadratic in α and
// the GeN learning rate α* = num/den has a closed form (the source text,
// section "Fully-connected neural networks").
type SingleLayer struct {
	W, B *tensor.Tensor[float64]
	Act  ad.Act
}

// NewSingleLayer checks the shapes and the activation.
func NewSingleLayer(w, b *tensor.Tensor[float64], act ad.Act) SingleLayer {
	if w.Rank() != 2 || b.Len() != w.Dim(0) {
		panic(fmt.Sprintf("gen: SingleLayer: weight %v and bias %v do not fit (want n1×n0 and n1)", w.Shape(), b.Shape()))
	}
	if !act.PiecewiseLinear() {
		panic(fmt.Sprintf("gen: SingleLayer: activation %s is not piecewise linear: the closed form does not hold", act))
	}
	return SingleLayer{W: w, B: b, Act: act}
}

func (s SingleLayer) check(x, y *tensor.Tensor[float64]) (m, n0, n1 int) {
	n1, n0 = s.W.Dim(0), s.W.Dim(1)
	if x.Rank() != 2 || x.Dim(1) != n0 || (y != nil && (y.Rank() != 2 || y.Dim(0) != x.Dim(0) || y.Dim(1) != n1)) {
		ys := []int(nil)
		if y != nil {
			ys = y.Shape()
		}
		panic(fmt.Sprintf("gen: SingleLayer: batch X %v, Y %v do not fit weight %v", x.Shape(), ys, s.W.Shape()))
	}
	return x.Dim(0), n0, n1
}

// forward returns z = X Wᵀ + b, the derivatives D = σ'(z) and the errors
// e = σ(z) − Y, each M×n1.
func (s SingleLayer) forward(x, y *tensor.Tensor[float64]) (z, d, e *tensor.Tensor[float64]) {
	m, _, n1 := s.check(x, y)
	z = tensor.New[float64](m, n1)
	tensor.MatMul(z, x, s.W, false, true, 1, 0)
	tensor.AddRowVector(z, z, s.B)
	d, e = tensor.New[float64](m, n1), tensor.New[float64](m, n1)
	for i, v := range z.Data() {
		f, d1, _ := s.Act.Eval(v)
		d.Data()[i] = d1
		e.Data()[i] = f - y.Data()[i]
	}
	return z, d, e
}

// Loss returns L(θ) on the batch.
func (s SingleLayer) Loss(x, y *tensor.Tensor[float64]) float64 {
	_, _, e := s.forward(x, y)
	return tensor.Dot(e, e) / (2 * float64(x.Dim(0)))
}

// Gradient returns the SGD direction u = ∇L = (∇_W L, ∇_b L):
//
//	∇_W L = 1/M Σ_i Δ'(z_i) e_i x_iᵀ,   ∇_b L = 1/M Σ_i Δ'(z_i) e_i.
func (s SingleLayer) Gradient(x, y *tensor.Tensor[float64]) (v, c *tensor.Tensor[float64]) {
	m, n0, n1 := s.check(x, y)
	_, d, e := s.forward(x, y)
	de := tensor.New[float64](m, n1)
	tensor.Mul(de, d, e)
	tensor.Scale(de, de, 1/float64(m))
	v, c = tensor.New[float64](n1, n0), tensor.New[float64](n1)
	tensor.MatMul(v, de, x, true, false, 1, 0)
	tensor.SumRows(c, de, 0)
	return v, c
}

// Coefficients returns, for the direction u = (V, c),
//
//	num = ∇L·u = 1/M Σ_i ⟨e_i, Δ'(z_i)(V x_i + c)⟩
//	den = uᵀHu = 1/M Σ_i ‖Δ'(z_i)(V x_i + c)‖²
//
// in O(M·n0·n1): along the line, ŷ_i(α) = ŷ_i − α·Δ'(z_i)(V x_i + c) until
// a pre-activation changes sign, so L(θ − α·u) = L − α·num + ½α²·den.
func (s SingleLayer) Coefficients(x, y, v, c *tensor.Tensor[float64]) (num, den float64) {
	m, _, _ := s.check(x, y)
	if !tensor.SameShape(v, s.W) || c.Len() != s.B.Len() {
		panic(fmt.Sprintf("gen: SingleLayer: direction %v, %v does not fit weight %v", v.Shape(), c.Shape(), s.W.Shape()))
	}
	_, d, e := s.forward(x, y)
	zdot := s.tangent(x, v, c)
	for i, t := range zdot.Data() {
		q := d.Data()[i] * t
		num += e.Data()[i] * q
		den += q * q
	}
	return num / float64(m), den / float64(m)
}

// tangent returns ż = X Vᵀ + c, the rate at which z moves along +u.
func (s SingleLayer) tangent(x, v, c *tensor.Tensor[float64]) *tensor.Tensor[float64] {
	zdot := tensor.New[float64](x.Dim(0), s.W.Dim(0))
	tensor.MatMul(zdot, x, v, false, true, 1, 0)
	tensor.AddRowVector(zdot, zdot, c)
	return zdot
}

// AlphaSGD returns α* = num/den for the SGD direction u = ∇L, by the
// efficient form. With ReLU and batch 1 it equals 1/(1 + ‖x‖²).
func (s SingleLayer) AlphaSGD(x, y *tensor.Tensor[float64]) float64 {
	v, c := s.Gradient(x, y)
	num, den := s.Coefficients(x, y, v, c)
	return num / den
}

// LiteralSGD evaluates the source text's sums for the SGD direction
// literally, as the reference for the efficient form (O(M³·n1)):
//
//	num = 1/M²·Σ_{i,j} (1 + x_iᵀx_j)·⟨Δ'_i Δ'_j e_j, e_i⟩
//	den = 1/M³·Σ_{i,j,k} (1 + x_iᵀx_j)(1 + x_iᵀx_k)·⟨Δ'_i Δ'_j e_j, Δ'_i Δ'_k e_k⟩
func (s SingleLayer) LiteralSGD(x, y *tensor.Tensor[float64]) (num, den float64) {
	m, n0, n1 := s.check(x, y)
	_, d, e := s.forward(x, y)
	X, D, E := x.Data(), d.Data(), e.Data()
	gram := make([]float64, m*m) // 1 + x_iᵀx_j
	for i := range m {
		for j := range m {
			g := 1.0
			for p := range n0 {
				g += X[i*n0+p] * X[j*n0+p]
			}
			gram[i*m+j] = g
		}
	}
	for i := range m {
		for j := range m {
			var in float64
			for q := range n1 {
				in += D[i*n1+q] * D[j*n1+q] * E[j*n1+q] * E[i*n1+q]
			}
			num += gram[i*m+j] * in
			for k := range m {
				var in3 float64
				for q := range n1 {
					di := D[i*n1+q]
					in3 += di * D[j*n1+q] * E[j*n1+q] * di * D[k*n1+q] * E[k*n1+q]
				}
				den += gram[i*m+j] * gram[i*m+k] * in3
			}
		}
	}
	mf := float64(m)
	return num / (mf * mf), den / (mf * mf * mf)
}

// ValidityInterval returns the largest A such that for every α in [0, A)
// no pre-activation z_ij − α·ż_ij crosses the activation's kink at 0 (so
// the loss along θ − α·u equals its quadratic model exactly); +Inf for the
// identity or when nothing crosses. A pre-activation exactly at the kink
// that moves off it gives 0.
func (s SingleLayer) ValidityInterval(x, v, c *tensor.Tensor[float64]) float64 {
	s.check(x, nil)
	if s.Act.Kind == ad.Identity {
		return math.Inf(1)
	}
	z := tensor.New[float64](x.Dim(0), s.W.Dim(0))
	tensor.MatMul(z, x, s.W, false, true, 1, 0)
	tensor.AddRowVector(z, z, s.B)
	zdot := s.tangent(x, v, c)
	lim := math.Inf(1)
	for i, zv := range z.Data() {
		t := zdot.Data()[i]
		if t == 0 {
			continue
		}
		if zv == 0 {
			// On the kink: σ'(0) belongs to the z < 0 side, so moving
			// towards z > 0 (ż < 0) changes the region at once.
			if t < 0 {
				return 0
			}
			continue
		}
		if a := zv / t; a > 0 {
			lim = min(lim, a)
		}
	}
	return lim
}
