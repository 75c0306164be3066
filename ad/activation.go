package ad

import (
	"fmt"
	"math"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// ActKind names an elementwise activation function.
type ActKind int

const (
	// Identity: σ(x) = x.
	Identity ActKind = iota
	// ReLU: σ(x) = max(x, 0), with σ'(0) = 0 (Nair & Hinton, ICML 2010).
	ReLU
	// LeakyReLU: σ(x) = x for x > 0, slope·x otherwise, σ'(0) = slope
	// (Maas et al., ICML 2013 workshop).
	LeakyReLU
	// Tanh: σ(x) = tanh x.
	Tanh
	// Sigmoid: σ(x) = 1/(1 + e^{−x}).
	Sigmoid
	// GELU: σ(x) = x·Φ(x) with Φ the standard normal CDF, the exact (erf)
	// form (Hendrycks & Gimpel, arXiv:1606.08415). In float32 Φ comes from
	// a rational approximation of erf accurate to 1.5e-7, computed eight
	// elements at a time (kernel.GELU32; Φ within 3e-7 of the exact value).
	GELU
	// SiLU: σ(x) = x·sigmoid(x) (Elfwing et al., Neural Networks 107, 2018).
	SiLU
	// Softplus: σ(x) = log(1 + eˣ) (Dugas et al., NIPS 2000).
	Softplus
)

var actNames = [...]string{"identity", "relu", "leaky-relu", "tanh", "sigmoid", "gelu", "silu", "softplus"}

// Act is an activation function: a kind and, for LeakyReLU, its slope
// (0 means the usual 0.01).
type Act struct {
	Kind  ActKind
	Slope float64
}

// String returns the activation's name, e.g. "relu" or "leaky-relu(0.1)".
func (a Act) String() string {
	if a.Kind < 0 || int(a.Kind) >= len(actNames) {
		return fmt.Sprintf("ActKind(%d)", int(a.Kind))
	}
	if a.Kind == LeakyReLU {
		return fmt.Sprintf("leaky-relu(%g)", a.slope())
	}
	return actNames[a.Kind]
}

// ParseAct parses an activation name: identity (or none), relu, leaky-relu
// (slope 0.01), tanh, sigmoid, gelu, silu, softplus.
func ParseAct(s string) (Act, error) {
	if s == "none" || s == "" {
		return Act{Kind: Identity}, nil
	}
	for i, n := range actNames {
		if s == n {
			return Act{Kind: ActKind(i)}, nil
		}
	}
	return Act{}, fmt.Errorf("unknown activation %q; valid: none, %v", s, actNames)
}

// PiecewiseLinear reports whether σ″ = 0 away from kinks (identity, ReLU,
// LeakyReLU).
func (a Act) PiecewiseLinear() bool {
	return a.Kind == Identity || a.Kind == ReLU || a.Kind == LeakyReLU
}

func (a Act) slope() float64 {
	if a.Slope == 0 {
		return 0.01
	}
	return a.Slope
}

// Eval returns σ(x), σ'(x) and σ″(x) in float64: the reference every
// loop in this file follows.
func (a Act) Eval(x float64) (f, d1, d2 float64) {
	switch a.Kind {
	case Identity:
		return x, 1, 0
	case ReLU:
		if x > 0 {
			return x, 1, 0
		}
		return 0, 0, 0
	case LeakyReLU:
		if x > 0 {
			return x, 1, 0
		}
		s := a.slope()
		return s * x, s, 0
	case Tanh:
		t := math.Tanh(x)
		return t, 1 - t*t, -2 * t * (1 - t*t)
	case Sigmoid:
		s := sigmoid(x)
		return s, s * (1 - s), s * (1 - s) * (1 - 2*s)
	case GELU:
		phi := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
		cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
		return x * cdf, cdf + x*phi, phi * (2 - x*x)
	case SiLU:
		s := sigmoid(x)
		return x * s, s + x*s*(1-s), s * (1 - s) * (2 + x*(1-2*s))
	case Softplus:
		s := sigmoid(x)
		// log(1+eˣ) = max(x,0) + log1p(e^{−|x|}), stable for large |x|.
		return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))), s, s * (1 - s)
	}
	panic(fmt.Sprintf("ad: unknown activation %d", int(a.Kind)))
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Activate records y = σ(x) elementwise.
func Activate[T Float](t *Tape[T], x *Var[T], a Act) *Var[T] {
	y, op := record[actOp[T]](t, x.Shape(), x)
	op.act = a
	return run(y)
}

// actOp is σ elementwise. dst, x, g, acc and chunks hold the arguments of
// the pass that Range splits over the threads (see splitElems). For smooth
// activations it keeps σ'(x) and σ″(x) of the last Forward in s1, s2,
// computed with σ(x) at little extra cost (they share their exponentials),
// so that the reverse and jet rules evaluate no transcendental function.
type actOp[T Float] struct {
	act       Act
	dst, x, g []T
	acc       bool
	chunks    int
	s1, s2    []T
}

// elemChunk is the number of elements per part when an elementwise pass is
// spread over the threads; arrays shorter than two chunks stay on the
// calling goroutine (handing work to a pool worker costs a few µs).
const elemChunk = 1 << 16

// splitElems runs forward (g nil) or deriv over x on up to
// kernel.Threads() threads, in parts of whole chunks of elemChunk elements
// (the last part takes the rest). Each element is computed alone, so the
// result does not depend on the split. Smooth activations, whose passes
// fill or read s1 and s2 over the whole array, are not split.
func (op *actOp[T]) splitElems(dst, x, g []T, acc bool) {
	chunks := len(x) / elemChunk
	smooth := op.act.Kind != Identity && op.act.Kind != ReLU && op.act.Kind != LeakyReLU
	if chunks < 2 || kernel.Threads() < 2 || smooth {
		op.pass(dst, x, g, acc)
		return
	}
	op.dst, op.x, op.g, op.acc, op.chunks = dst, x, g, acc, chunks
	kernel.ParallelFor(chunks, chunks, op)
	op.dst, op.x, op.g = nil, nil, nil
}

// Range runs the stored pass on the chunks [lo, hi).
func (op *actOp[T]) Range(_, lo, hi int) {
	a, b := lo*elemChunk, hi*elemChunk
	if hi == op.chunks {
		b = len(op.x)
	}
	var g []T
	if op.g != nil {
		g = op.g[a:b]
	}
	op.pass(op.dst[a:b], op.x[a:b], g, op.acc)
}

func (op *actOp[T]) pass(dst, x, g []T, acc bool) {
	if g == nil {
		op.forward(dst, x)
		return
	}
	op.deriv(dst, x, g, acc)
}

func (op *actOp[T]) Name() string { return "Activate(" + op.act.String() + ")" }

func (op *actOp[T]) Forward(y *Var[T]) {
	op.splitElems(y.Value.Data(), y.in[0].Value.Data(), nil, false)
}

// forward writes σ(x) into out.
func (op *actOp[T]) forward(out, x []T) {
	out = out[:len(x)]
	switch op.act.Kind {
	case Identity:
		copy(out, x)
	case ReLU:
		if x32, f32 := any(x).([]float32); f32 {
			// The same bits, 16 at a time (max(v+0, 0) is max(v, 0)).
			kernel.ReLURows32(1, len(x), any(out).([]float32), len(x), x32, len(x), 0)
			return
		}
		for i, v := range x {
			out[i] = max(v, 0)
		}
	case LeakyReLU:
		s := T(op.act.slope())
		for i, v := range x {
			if v > 0 {
				out[i] = v
			} else {
				out[i] = s * v
			}
		}
	default:
		op.s1, op.s2 = resize(op.s1, len(x)), resize(op.s2, len(x))
		if x32, f32 := any(x).([]float32); f32 && op.act.Kind == GELU {
			kernel.GELU32(any(out).([]float32), any(op.s1).([]float32), any(op.s2).([]float32), x32)
			return
		}
		for i, v := range x {
			f, d1, d2 := op.act.Eval(float64(v))
			out[i], op.s1[i], op.s2[i] = T(f), T(d1), T(d2)
		}
	}
}

// deriv writes σ'(x) ⊙ g into dst (accumulating when acc is set).
func (op *actOp[T]) deriv(dst []T, x, g []T, acc bool) {
	g = g[:len(x)]
	dst = dst[:len(x)]
	switch op.act.Kind {
	case Identity:
		if !acc {
			copy(dst, g)
			return
		}
		for i, v := range g {
			dst[i] += v
		}
	case ReLU, LeakyReLU:
		if x32, f32 := any(x).([]float32); f32 && op.act.Kind == ReLU {
			// The same products and sums, 16 at a time.
			kernel.ReLUGradRows32(1, len(x), any(dst).([]float32), len(x), any(g).([]float32), len(x), x32, len(x), acc)
			return
		}
		s := T(0)
		if op.act.Kind == LeakyReLU {
			s = T(op.act.slope())
		}
		// The derivative is looked up by an index that compiles to a
		// conditional move: a branch on the sign of random
		// pre-activations mispredicts half the time. Separate loops for
		// the two modes keep the body to a select, a load and a multiply.
		lut := [2]T{s, 1}
		if acc {
			for i, v := range x {
				k := 0
				if v > 0 {
					k = 1
				}
				dst[i] += lut[k&1] * g[i]
			}
			return
		}
		for i, v := range x {
			k := 0
			if v > 0 {
				k = 1
			}
			dst[i] = lut[k&1] * g[i]
		}
	default:
		s1 := op.s1[:len(x)]
		if d32, f32 := any(dst).([]float32); f32 {
			// The same products and sums, 16 or 8 at a time.
			if acc {
				kernel.MulAdd32(d32, any(s1).([]float32), any(g).([]float32))
			} else {
				kernel.Mul32(d32, any(s1).([]float32), any(g).([]float32))
			}
			return
		}
		if acc {
			for i, d := range s1 {
				dst[i] += d * g[i]
			}
			return
		}
		for i, d := range s1 {
			dst[i] = d * g[i]
		}
	}
}

// VJP: x̄ += σ'(x) ⊙ ȳ (= where x̄ holds nothing yet).
func (op *actOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if x.needsGrad {
		op.splitElems(x.Grad.Data(), x.Value.Data(), y.Grad.Data(), x.gradBeta() == 1)
	}
}

func (*actOp[T]) writesGrad() {}

// Jet: ẏ = σ'(x)·ẋ,  ÿ = σ'(x)·ẍ + σ″(x)·ẋ², elementwise. The last term is
// the activation's own curvature; it is zero for piecewise-linear σ.
func (op *actOp[T]) Jet(y *Var[T], curv bool) bool {
	x := y.in[0]
	xv := x.Value.Data()
	if x.hasD1 {
		op.splitElems(y.d1.Data(), xv, x.d1.Data(), false)
	} else {
		tensor.Zero(y.d1)
	}
	wrote := false
	if x.hasD2 {
		op.splitElems(y.d2.Data(), xv, x.d2.Data(), false)
		wrote = true
	}
	if curv && x.hasD1 && !op.act.PiecewiseLinear() {
		d2, t1 := y.d2.Data(), x.d1.Data()
		for i, s2 := range op.s2[:len(xv)] {
			c := s2 * t1[i] * t1[i]
			if wrote {
				d2[i] += c
			} else {
				d2[i] = c
			}
		}
		wrote = true
	}
	return wrote
}
