package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

func sameShape[T Float](op string, a, b *Var[T]) {
	if !tensor.SameShape(a.Value, b.Value) {
		panic(fmt.Sprintf("ad: %s: shapes differ: %v and %v", op, a.Shape(), b.Shape()))
	}
}

// Add records y = a + b elementwise (equal shapes).
func Add[T Float](t *Tape[T], a, b *Var[T]) *Var[T] {
	sameShape("Add", a, b)
	y, op := record[addOp[T]](t, a.Shape(), a, b)
	op.sign = 1
	return run(y)
}

// Sub records y = a − b elementwise (equal shapes).
func Sub[T Float](t *Tape[T], a, b *Var[T]) *Var[T] {
	sameShape("Sub", a, b)
	y, op := record[addOp[T]](t, a.Shape(), a, b)
	op.sign = -1
	return run(y)
}

// addOp is y = a + sign·b, sign ∈ {+1, −1}.
type addOp[T Float] struct{ sign T }

func (op *addOp[T]) Name() string {
	if op.sign < 0 {
		return "Sub"
	}
	return "Add"
}

func (op *addOp[T]) Forward(y *Var[T]) {
	if op.sign > 0 {
		tensor.Add(y.Value, y.in[0].Value, y.in[1].Value)
	} else {
		tensor.Sub(y.Value, y.in[0].Value, y.in[1].Value)
	}
}

// VJP: ā += ȳ, b̄ += sign·ȳ (each = where the gradient holds nothing yet).
func (op *addOp[T]) VJP(y *Var[T]) {
	for i, c := range [2]T{1, op.sign} {
		x := y.in[i]
		if !x.needsGrad {
			continue
		}
		switch {
		case x.gradBeta() == 1:
			tensor.Axpy(x.Grad, c, y.Grad)
		case c == 1:
			tensor.Copy(x.Grad, y.Grad)
		default:
			tensor.Scale(x.Grad, y.Grad, c)
		}
	}
}

func (*addOp[T]) writesGrad() {}

// Jet: ẏ = ȧ + sign·ḃ, ÿ = ä + sign·b̈ (linear: no own curvature).
func (op *addOp[T]) Jet(y *Var[T], _ bool) bool {
	linearJet2(y, 1, op.sign)
	return y.in[0].hasD2 || y.in[1].hasD2
}

// linearJet2 writes the tangents of y = ca·a + cb·b.
func linearJet2[T Float](y *Var[T], ca, cb T) {
	a, b := y.in[0], y.in[1]
	comb := func(dst, da, db *tensor.Tensor[T], ha, hb bool) {
		tensor.Zero(dst)
		if ha {
			tensor.Axpy(dst, ca, da)
		}
		if hb {
			tensor.Axpy(dst, cb, db)
		}
	}
	comb(y.d1, a.d1, b.d1, a.hasD1, b.hasD1)
	if a.hasD2 || b.hasD2 {
		comb(y.d2, a.d2, b.d2, a.hasD2, b.hasD2)
	}
}

// Mul records y = a ⊙ b elementwise (equal shapes).
func Mul[T Float](t *Tape[T], a, b *Var[T]) *Var[T] {
	sameShape("Mul", a, b)
	y, _ := record[mulOp[T]](t, a.Shape(), a, b)
	return run(y)
}

type mulOp[T Float] struct{}

func (*mulOp[T]) Name() string { return "Mul" }

func (*mulOp[T]) Forward(y *Var[T]) { tensor.Mul(y.Value, y.in[0].Value, y.in[1].Value) }

// VJP: ā += ȳ ⊙ b, b̄ += ȳ ⊙ a.
func (*mulOp[T]) VJP(y *Var[T]) {
	a, b := y.in[0], y.in[1]
	g := y.Grad.Data()
	if a.needsGrad {
		ag, bv := a.Grad.Data(), b.Value.Data()
		for i, v := range g {
			ag[i] += v * bv[i]
		}
	}
	if b.needsGrad {
		bg, av := b.Grad.Data(), a.Value.Data()
		for i, v := range g {
			bg[i] += v * av[i]
		}
	}
}

// Jet: ẏ = ȧ⊙b + a⊙ḃ,  ÿ = ä⊙b + a⊙b̈ + 2·ȧ⊙ḃ (the last term is the
// product's own curvature).
func (*mulOp[T]) Jet(y *Var[T], curv bool) bool {
	a, b := y.in[0], y.in[1]
	av, bv := a.Value.Data(), b.Value.Data()
	d1 := y.d1.Data()
	clear(d1)
	if a.hasD1 {
		for i, v := range a.d1.Data() {
			d1[i] += v * bv[i]
		}
	}
	if b.hasD1 {
		for i, v := range b.d1.Data() {
			d1[i] += av[i] * v
		}
	}
	d2 := y.d2.Data()
	wrote := false
	if a.hasD2 || b.hasD2 || (curv && a.hasD1 && b.hasD1) {
		clear(d2)
		wrote = true
	}
	if a.hasD2 {
		for i, v := range a.d2.Data() {
			d2[i] += v * bv[i]
		}
	}
	if b.hasD2 {
		for i, v := range b.d2.Data() {
			d2[i] += av[i] * v
		}
	}
	if curv && a.hasD1 && b.hasD1 {
		ad, bd := a.d1.Data(), b.d1.Data()
		for i, v := range ad {
			d2[i] += 2 * v * bd[i]
		}
	}
	return wrote
}

// Scale records y = c·x for a constant c.
func Scale[T Float](t *Tape[T], x *Var[T], c float64) *Var[T] {
	y, op := record[scaleOp[T]](t, x.Shape(), x)
	op.c = T(c)
	return run(y)
}

type scaleOp[T Float] struct{ c T }

func (*scaleOp[T]) Name() string { return "Scale" }

func (op *scaleOp[T]) Forward(y *Var[T]) { tensor.Scale(y.Value, y.in[0].Value, op.c) }

// VJP: x̄ += c·ȳ.
func (op *scaleOp[T]) VJP(y *Var[T]) {
	if x := y.in[0]; x.needsGrad {
		tensor.Axpy(x.Grad, op.c, y.Grad)
	}
}

// Jet: ẏ = c·ẋ, ÿ = c·ẍ.
func (op *scaleOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	if x.hasD1 {
		tensor.Scale(y.d1, x.d1, op.c)
	} else {
		tensor.Zero(y.d1)
	}
	if x.hasD2 {
		tensor.Scale(y.d2, x.d2, op.c)
	}
	return x.hasD2
}

// Sum records the scalar y = Σ_i x_i (shape ()).
func Sum[T Float](t *Tape[T], x *Var[T]) *Var[T] {
	y, _ := record[sumOp[T]](t, nil, x)
	return run(y)
}

type sumOp[T Float] struct{}

func (*sumOp[T]) Name() string { return "Sum" }

func (*sumOp[T]) Forward(y *Var[T]) { y.Value.Data()[0] = T(tensor.Sum(y.in[0].Value)) }

// VJP: x̄_i += ȳ.
func (*sumOp[T]) VJP(y *Var[T]) {
	if x := y.in[0]; x.needsGrad {
		g := y.Grad.Data()[0]
		for i := range x.Grad.Data() {
			x.Grad.Data()[i] += g
		}
	}
}

// Jet: ẏ = Σ ẋ, ÿ = Σ ẍ.
func (*sumOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	y.d1.Data()[0] = 0
	if x.hasD1 {
		y.d1.Data()[0] = T(tensor.Sum(x.d1))
	}
	if x.hasD2 {
		y.d2.Data()[0] = T(tensor.Sum(x.d2))
	}
	return x.hasD2
}

// Reshape records y = x with a new shape of the same size (copied, so that
// every recorded value owns its buffer). One dimension may be -1.
func Reshape[T Float](t *Tape[T], x *Var[T], shape ...int) *Var[T] {
	y, _ := recordUnsized[reshapeOp[T]](t, x)
	// Infer −1 and validate in the node's own shape slice (no allocation).
	y.shape = append(y.shape[:0], shape...)
	infer, n := -1, 1
	for i, d := range y.shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(fmt.Sprintf("ad: Reshape: %v to %v: bad dimension", x.Shape(), y.shape))
		default:
			n *= d
		}
	}
	if infer >= 0 && n > 0 {
		y.shape[infer] = x.Value.Len() / n
		n *= y.shape[infer]
	}
	if n != x.Value.Len() {
		panic(fmt.Sprintf("ad: Reshape: %v (%d elements) to %v", x.Shape(), x.Value.Len(), y.shape))
	}
	y.Value.Resize(y.shape...)
	return run(y)
}

type reshapeOp[T Float] struct{}

func (*reshapeOp[T]) Name() string { return "Reshape" }

func (*reshapeOp[T]) Forward(y *Var[T]) { copy(y.Value.Data(), y.in[0].Value.Data()) }

// VJP: x̄ += ȳ (same elements, other shape).
func (*reshapeOp[T]) VJP(y *Var[T]) {
	if x := y.in[0]; x.needsGrad {
		// x̄ + 1·ȳ: the same sums (1·v is v), 16 or 8 at a time.
		kernel.Axpy(1, y.Grad.Data(), x.Grad.Data())
	}
}

// Jet: the tangents are reshaped like the value.
func (*reshapeOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	if x.hasD1 {
		copy(y.d1.Data(), x.d1.Data())
	} else {
		tensor.Zero(y.d1)
	}
	if x.hasD2 {
		copy(y.d2.Data(), x.d2.Data())
	}
	return x.hasD2
}
