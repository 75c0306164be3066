package ad

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/tensor"
)

// Float is the set of element types the engine works in.
type Float = tensor.Float

// Primitive is a differentiable operation. Its three rules sit side by side
// in one Go type; a type that lacks one does not satisfy the interface.
//
// The rules read their inputs from y.In(i) and write the output node y:
//   - Forward computes y.Value from the inputs' values (the builder function
//     has already sized y.Value).
//   - VJP accumulates (+=) into y.In(i).Grad the product of y.Grad with the
//     Jacobian of the primitive, for every input with NeedsGrad (a
//     gradWriter overwrites a gradient that holds nothing yet instead).
//   - Jet writes y's first tangent (always) and its second tangent, and
//     reports whether the second tangent is nonzero. Inputs without tangents
//     have D1/D2 nil, meaning zero. When curv is false the primitive leaves
//     out its own curvature term (Gauss–Newton mode).
type Primitive[T Float] interface {
	Name() string
	Forward(y *Var[T])
	VJP(y *Var[T])
	Jet(y *Var[T], curv bool) (wroteD2 bool)
}

// lossCurvature marks primitives that belong to the loss: they keep their own
// curvature in Gauss–Newton mode.
type lossCurvature interface{ lossCurvature() }

// Var is a value in a computation: a parameter (a persistent leaf that
// receives gradients), a data leaf (recorded with Tape.Const), or the output
// of a primitive recorded on a tape.
type Var[T Float] struct {
	// Name names a parameter ("0.weight"); empty for other values.
	Name string
	// Value is the forward value.
	Value *tensor.Tensor[T]
	// Grad is the gradient of the last Backward's output with respect to
	// Value; nil for values that do not need gradients. Parameter gradients
	// accumulate across Backward calls until ZeroGrad.
	Grad *tensor.Tensor[T]

	param     bool
	needsGrad bool
	op        Primitive[T]
	in        []*Var[T]

	buf          *tensor.Tensor[T] // the value buffer a recorded primitive owns
	shape        []int             // the output shape, owned by the node so that recording does not allocate
	d1, d2       *tensor.Tensor[T] // tangent buffers (or, for parameters, the seeded direction)
	hasD1, hasD2 bool
	gradZeroed   bool // during Backward: Grad holds a partial sum (zeroed, or written by a gradWriter)
	gradStale    bool // a parameter during BackwardFresh: Grad holds nothing yet, its first writer overwrites it
}

// gradWriter marks a primitive whose VJP writes each input gradient with
// the beta of Var.gradBeta, overwriting a gradient that no rule has
// written yet instead of adding to zeros: Backward does not zero those
// gradients first. A linear layer's x̄ = ȳ·W is then a product with beta 0,
// and the pass that zeroed it is gone (4 % of a GPT training step).
type gradWriter interface{ writesGrad() }

// gradBeta returns how a rule writes x's gradient, as a GEMM beta: 0 when
// x.Grad holds nothing yet in this Backward (a recorded value none of
// whose consumers has run: the rule overwrites it), 1 otherwise (the rule
// adds to it; always for parameters, whose gradients accumulate across
// Backward calls). It marks x's gradient as holding a partial sum, so a
// rule calls it once for each write, just before the write.
func (x *Var[T]) gradBeta() T {
	if x.op == nil {
		if x.gradStale { // a parameter in BackwardFresh, not written yet
			x.gradStale = false
			return 0
		}
		return 1
	}
	if x.gradZeroed {
		return 1
	}
	x.gradZeroed = true
	return 0
}

// NewParam returns a parameter leaf holding value (not copied) with a zero
// gradient of the same shape.
func NewParam[T Float](name string, value *tensor.Tensor[T]) *Var[T] {
	return &Var[T]{Name: name, Value: value, Grad: tensor.New[T](value.Shape()...), param: true, needsGrad: true}
}

// IsParam reports whether v is a parameter leaf.
func (v *Var[T]) IsParam() bool { return v.param }

// NeedsGrad reports whether gradients flow to v: parameters and every value
// computed from a parameter.
func (v *Var[T]) NeedsGrad() bool { return v.needsGrad }

// In returns the i-th input of a recorded primitive.
func (v *Var[T]) In(i int) *Var[T] { return v.in[i] }

// NumIn returns the number of inputs of a recorded primitive.
func (v *Var[T]) NumIn() int { return len(v.in) }

// Op returns the primitive that produced v, or nil for a leaf.
func (v *Var[T]) Op() Primitive[T] { return v.op }

// D1 returns the first tangent ẋ of the last Jet, or nil when it is zero.
func (v *Var[T]) D1() *tensor.Tensor[T] {
	if !v.hasD1 {
		return nil
	}
	return v.d1
}

// D2 returns the second tangent ẍ of the last Jet, or nil when it is zero.
func (v *Var[T]) D2() *tensor.Tensor[T] {
	if !v.hasD2 {
		return nil
	}
	return v.d2
}

// Shape is shorthand for v.Value.Shape().
func (v *Var[T]) Shape() []int { return v.Value.Shape() }

// Tape records a forward computation for Backward and Jet. The zero value is
// ready to use. A Tape is not safe for concurrent use.
type Tape[T Float] struct {
	// Train switches layers to training behaviour (dropout active).
	Train bool
	// Rand is the randomness of stochastic primitives (dropout). Required
	// when Train is set and the model has such primitives.
	Rand *rand.Rand
	// ReplayRandom makes stochastic primitives reuse, position by position,
	// the last thing they drew there instead of drawing anew: a
	// re-evaluation at other parameters sees the same dropout masks (see
	// Dropout for which recordings draw).
	ReplayRandom bool

	nodes []*Var[T]
	n     int
}

// Reset rewinds the tape; the next recording reuses its buffers.
func (t *Tape[T]) Reset() { t.n = 0 }

// Len returns the number of values recorded since the last Reset.
func (t *Tape[T]) Len() int { return t.n }

// next returns the node for the next recorded position, reusing its storage.
func (t *Tape[T]) next() *Var[T] {
	if t.n == len(t.nodes) {
		t.nodes = append(t.nodes, &Var[T]{buf: &tensor.Tensor[T]{}})
	}
	v := t.nodes[t.n]
	t.n++
	v.hasD1, v.hasD2 = false, false
	return v
}

// Const records a data leaf holding x (not copied): it has no gradient and
// zero tangents.
func (t *Tape[T]) Const(x *tensor.Tensor[T]) *Var[T] {
	v := t.next()
	v.op, v.in, v.needsGrad = nil, v.in[:0], false
	v.Value = x
	return v
}

// opAt returns the primitive of type *O stored at node v, creating it the
// first time, so that a primitive's scratch is reused across recordings.
func opAt[O any, T Float, P interface {
	*O
	Primitive[T]
}](v *Var[T]) P {
	if p, ok := v.op.(P); ok {
		return p
	}
	p := P(new(O))
	v.op = p
	return p
}

// record prepares the next node as the output of a primitive of type *O
// with the given inputs and output shape, returning the node and the
// primitive for the builder to configure before calling run.
func record[O any, T Float, P interface {
	*O
	Primitive[T]
}](t *Tape[T], shape []int, ins ...*Var[T]) (*Var[T], P) {
	y, p := recordUnsized[O, T, P](t, ins...)
	// Copying the shape into storage the node owns keeps the caller's
	// slice from escaping to the heap through Resize.
	y.shape = append(y.shape[:0], shape...)
	y.Value.Resize(y.shape...)
	return y, p
}

// recordUnsized is record without sizing the output: the builder sets
// y.shape and resizes y.Value itself.
func recordUnsized[O any, T Float, P interface {
	*O
	Primitive[T]
}](t *Tape[T], ins ...*Var[T]) (*Var[T], P) {
	y := t.next()
	y.Value = y.buf
	p := opAt[O, T, P](y)
	y.in = append(y.in[:0], ins...)
	y.needsGrad = false
	for _, x := range ins {
		y.needsGrad = y.needsGrad || x.needsGrad
	}
	return y, p
}

// run computes the forward rule of the node just recorded and returns it.
func run[T Float](y *Var[T]) *Var[T] {
	y.op.Forward(y)
	return y
}

// index returns the position of v on the tape, or panics.
func (t *Tape[T]) index(op string, v *Var[T]) int {
	for i := t.n - 1; i >= 0; i-- {
		if t.nodes[i] == v {
			return i
		}
	}
	panic(fmt.Sprintf("ad: %s: the value was not recorded on this tape since its last Reset", op))
}

// Backward computes the gradient of the scalar out with respect to every
// value that needs one. Gradients of intermediate values are overwritten;
// parameter gradients accumulate (+=) into Var.Grad, so call ZeroGrad first
// to start from zero.
//
// Reference: reverse-mode automatic differentiation (Griewank & Walther,
// "Evaluating Derivatives", 2nd ed., SIAM 2008, ch. 3).
func (t *Tape[T]) Backward(out *Var[T]) {
	if out.Value.Len() != 1 {
		panic(fmt.Sprintf("ad: Backward: output has shape %v, want a scalar", out.Value.Shape()))
	}
	last := t.index("Backward", out)
	if !out.needsGrad {
		return
	}
	for _, v := range t.nodes[:last+1] {
		if v.op == nil || !v.needsGrad {
			continue
		}
		if v.Grad == nil {
			v.Grad = &tensor.Tensor[T]{}
		}
		v.Grad.Resize(v.Value.Shape()...)
		v.gradZeroed = false
	}
	tensor.Zero(out.Grad)
	out.Grad.Data()[0] = 1
	out.gradZeroed = true
	// A recorded value's gradient is zeroed just before the first rule
	// that adds to it runs (its consumer recorded last), not all at the
	// start: the buffer is then still in cache when the rule writes it.
	// Every consumer comes later on the tape, so no rule adds to a
	// gradient before it is zeroed. A gradWriter's inputs are not zeroed:
	// the first rule that writes one overwrites it (Var.gradBeta).
	for i := last; i >= 0; i-- {
		v := t.nodes[i]
		if v.op == nil || !v.needsGrad {
			continue
		}
		if !v.gradZeroed { // no consumer on the way to out: a zero gradient
			tensor.Zero(v.Grad)
			v.gradZeroed = true
		}
		_, writes := v.op.(gradWriter)
		for _, u := range v.in {
			if writes || !u.needsGrad {
				continue
			}
			if u.op != nil && !u.gradZeroed {
				tensor.Zero(u.Grad)
				u.gradZeroed = true
			}
			if u.gradStale { // a parameter in BackwardFresh: this rule adds
				tensor.Zero(u.Grad)
				u.gradStale = false
			}
		}
		v.op.VJP(v)
	}
}

// BackwardFresh is ZeroGrad(params) followed by Backward(out), with the
// same gradients, without a pass that zeroes them first: the first rule
// that writes a parameter's gradient overwrites it (a gradWriter, such as
// Linear's weight product with beta 0), a rule that adds to it finds it
// zeroed just before, and a parameter nothing wrote is zeroed at the end.
// It saves a training step the zeroing of every parameter gradient (the
// MNIST MLP's 800 KB first-layer weight gradient among them) and the
// products' reading of it.
func (t *Tape[T]) BackwardFresh(out *Var[T], params []*Var[T]) {
	for _, p := range params {
		p.gradStale = p.Grad != nil
	}
	defer func() {
		for _, p := range params {
			if p.gradStale {
				tensor.Zero(p.Grad)
				p.gradStale = false
			}
		}
	}()
	t.Backward(out)
}

// ZeroGrad sets the gradients of the parameters to zero.
func ZeroGrad[T Float](params []*Var[T]) {
	for _, p := range params {
		tensor.Zero(p.Grad)
	}
}

// Curvature selects the second-order term the jet computes.
type Curvature int

const (
	// Hessian gives uᵀHu, the exact second directional derivative.
	Hessian Curvature = iota
	// GaussNewton gives uᵀGu with G = Jᵀ·H_loss·J (Schraudolph 2002): the
	// loss primitives — MeanSquaredError, HalfSquaredError,
	// SoftmaxCrossEntropy, LogSoftmax and NLL — keep their own curvature,
	// every other primitive drops its own. G is positive semi-definite
	// when the recorded scalar is one of the squared errors,
	// SoftmaxCrossEntropy, or NLL of LogSoftmax, applied to the model's
	// output (and scaled, if at all, by a positive constant). The marking
	// is by primitive, not by position, which has two limits:
	//   - LogSoftmax keeps its curvature wherever it sits. Inside the
	//     network, or feeding a squared error instead of NLL, it adds
	//     its log-sum-exp curvature with the sign of the gradient that
	//     flows into it, and G need not be positive semi-definite.
	//   - A loss written with generic primitives (Sub, Mul, Sum, …) is
	//     treated as model: its curvature is dropped, so, for example,
	//     Sum(Mul(e, e)) of a linear e gives uᵀGu = 0.
	GaussNewton
)

// String returns "hessian" or "gauss-newton".
func (c Curvature) String() string {
	switch c {
	case Hessian:
		return "hessian"
	case GaussNewton:
		return "gauss-newton"
	}
	return fmt.Sprintf("Curvature(%d)", int(c))
}

// Jet replays the tape up to the scalar out along the direction dir on the
// parameters (dir[i] has the shape of params[i]; parameters not listed get
// a zero direction) and returns
//
//	f = out,   d1 = ∇f·u,   d2 = uᵀHu  (or uᵀGu with GaussNewton)
//
// evaluated at the recorded point, reusing the recorded forward values.
// When out is the output of a loss primitive (MeanSquaredError,
// HalfSquaredError, SoftmaxCrossEntropy, NLL), f, d1 and d2 are that
// primitive's float64 accumulations, not rounded to T (f is Scalar(out));
// otherwise they are out's elements converted to float64. It
// does not change values or gradients. Cost: roughly one extra forward
// pass per primitive that depends on a parameter; primitives fed only by
// data are skipped.
//
// Reference: Taylor-mode automatic differentiation (Griewank & Walther 2008,
// ch. 13; Bettencourt, Johnson & Duvenaud, "Taylor-mode automatic
// differentiation for higher-order derivatives in JAX", 2019).
func (t *Tape[T]) Jet(out *Var[T], params []*Var[T], dir []*tensor.Tensor[T], c Curvature) (f, d1, d2 float64) {
	if out.Value.Len() != 1 {
		panic(fmt.Sprintf("ad: Jet: output has shape %v, want a scalar", out.Value.Shape()))
	}
	if len(params) != len(dir) {
		panic(fmt.Sprintf("ad: Jet: %d parameters but %d directions", len(params), len(dir)))
	}
	last := t.index("Jet", out)
	for i, p := range params {
		if !tensor.SameShape(p.Value, dir[i]) {
			panic(fmt.Sprintf("ad: Jet: direction %d has shape %v, parameter %q has %v", i, dir[i].Shape(), p.Name, p.Value.Shape()))
		}
		p.d1, p.hasD1, p.hasD2 = dir[i], true, false
	}
	defer func() {
		for _, p := range params {
			p.d1, p.hasD1 = nil, false
		}
	}()
	for _, v := range t.nodes[:last+1] {
		v.hasD1, v.hasD2 = false, false
		if v.op == nil {
			continue
		}
		active := false
		for _, x := range v.in {
			active = active || x.hasD1 || x.hasD2
		}
		if !active {
			continue
		}
		if v.d1 == nil {
			v.d1, v.d2 = &tensor.Tensor[T]{}, &tensor.Tensor[T]{}
		}
		v.d1.Resize(v.Value.Shape()...)
		v.d2.Resize(v.Value.Shape()...)
		_, isLoss := v.op.(lossCurvature)
		v.hasD2 = v.op.Jet(v, c == Hessian || isLoss)
		v.hasD1 = true
	}
	f = Scalar(out)
	if !out.hasD1 {
		return f, 0, 0 // out does not depend on the direction
	}
	if j, ok := out.op.(tangent64); ok {
		// A loss primitive computed by this replay: its float64 tangents,
		// unrounded, like Scalar's value.
		d1, d2 = j.jet64()
		return f, d1, d2
	}
	d1 = float64(out.d1.Data()[0])
	if out.hasD2 {
		d2 = float64(out.d2.Data()[0])
	}
	return f, d1, d2
}
