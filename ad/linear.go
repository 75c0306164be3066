package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// Shapes in this file: x is M×K (a batch of M rows), W is N×K, b has N
// elements, y is M×N.

// Linear records the affine map of a fully-connected layer,
//
//	y = x·Wᵀ + b
//
// with x of shape M×K, W of shape N×K (PyTorch's layout) and b of shape N;
// b may be nil for a layer without bias.
func Linear[T Float](t *Tape[T], x, w, b *Var[T]) *Var[T] {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		panic(fmt.Sprintf("ad: Linear: input %v does not fit weight %v (want M×K and N×K)", xs, ws))
	}
	if b != nil && (b.Value.Len() != ws[0]) {
		panic(fmt.Sprintf("ad: Linear: bias %v does not fit weight %v", b.Shape(), ws))
	}
	var y *Var[T]
	if b == nil {
		y, _ = record[linearOp[T]](t, []int{xs[0], ws[0]}, x, w)
	} else {
		y, _ = record[linearOp[T]](t, []int{xs[0], ws[0]}, x, w, b)
	}
	return run(y)
}

type linearOp[T Float] struct{}

func (*linearOp[T]) Name() string { return "Linear" }

// Forward: with a bias, one product that writes b into each block of y
// before adding x·Wᵀ to it (kernel.GemmBias), not a second pass over y.
func (*linearOp[T]) Forward(y *Var[T]) {
	x, w := y.in[0].Value, y.in[1].Value
	if len(y.in) < 3 {
		tensor.MatMul(y.Value, x, w, false, true, 1, 0)
		return
	}
	m, k, n := x.Rows(), x.Cols(), w.Rows()
	kernel.GemmBias(false, true, m, n, k, x.Data(), k, w.Data(), k, y.in[2].Value.Data(), y.Value.Data(), n)
}

// VJP: x̄ += ȳ·W,  W̄ += ȳᵀ·x,  b̄ += Σ_rows ȳ (each = where the gradient
// holds nothing yet: the products' beta is 0).
func (*linearOp[T]) VJP(y *Var[T]) {
	x, w := y.in[0], y.in[1]
	if x.needsGrad {
		tensor.MatMul(x.Grad, y.Grad, w.Value, false, false, 1, x.gradBeta())
	}
	if w.needsGrad {
		tensor.MatMul(w.Grad, y.Grad, x.Value, true, false, 1, w.gradBeta())
	}
	if len(y.in) == 3 && y.in[2].needsGrad {
		b := y.in[2]
		tensor.SumRows(b.Grad, y.Grad, b.gradBeta())
	}
}

func (*linearOp[T]) writesGrad() {}

// Jet, with V = Ẇ and c = ḃ:
//
//	ẏ = ẋ·Wᵀ + x·Vᵀ + c
//	ÿ = ẍ·Wᵀ + 2·ẋ·Vᵀ        (+ x·Ẅᵀ + b̈, zero for parameters)
//
// The bilinear term 2·ẋ·Vᵀ is the layer's own curvature.
func (*linearOp[T]) Jet(y *Var[T], curv bool) bool {
	x, w := y.in[0], y.in[1]
	d1, d2 := y.d1, y.d2
	beta := T(0)
	if x.hasD1 {
		tensor.MatMul(d1, x.d1, w.Value, false, true, 1, beta)
		beta = 1
	}
	if w.hasD1 {
		tensor.MatMul(d1, x.Value, w.d1, false, true, 1, beta)
		beta = 1
	}
	if len(y.in) == 3 && y.in[2].hasD1 {
		if beta == 0 {
			tensor.Zero(d1)
		}
		tensor.AddRowVector(d1, d1, y.in[2].d1)
		beta = 1
	}
	if beta == 0 {
		tensor.Zero(d1)
	}
	wrote := false
	if x.hasD2 {
		tensor.MatMul(d2, x.d2, w.Value, false, true, 1, 0)
		wrote = true
	}
	if curv && x.hasD1 && w.hasD1 {
		tensor.MatMul(d2, x.d1, w.d1, false, true, 2, b2f[T](wrote))
		wrote = true
	}
	if w.hasD2 {
		tensor.MatMul(d2, x.Value, w.d2, false, true, 1, b2f[T](wrote))
		wrote = true
	}
	if len(y.in) == 3 && y.in[2].hasD2 {
		if !wrote {
			tensor.Zero(d2)
		}
		tensor.AddRowVector(d2, d2, y.in[2].d2)
		wrote = true
	}
	return wrote
}

// b2f is the GEMM beta that accumulates (1) into an already written
// destination or overwrites (0) a fresh one.
func b2f[T Float](accumulate bool) T {
	if accumulate {
		return 1
	}
	return 0
}
