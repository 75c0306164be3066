package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Init selects how weights are drawn. Biases start at zero.
type Init int

const (
	// KaimingUniform draws W ~ U(−b, b) with b = gain·√(3/fan_in), gain √2
	// (He et al., "Delving deep into rectifiers", ICCV 2015). The default.
	KaimingUniform Init = iota
	// KaimingNormal draws W ~ N(0, 2/fan_in) (He et al. 2015).
	KaimingNormal
	// XavierUniform draws W ~ U(−b, b) with b = √(6/(fan_in + fan_out))
	// (Glorot & Bengio, AISTATS 2010).
	XavierUniform
	// XavierNormal draws W ~ N(0, 2/(fan_in + fan_out)) (Glorot & Bengio 2010).
	XavierNormal
)

// String returns the initializer's name.
func (i Init) String() string {
	switch i {
	case KaimingUniform:
		return "kaiming-uniform"
	case KaimingNormal:
		return "kaiming-normal"
	case XavierUniform:
		return "xavier-uniform"
	case XavierNormal:
		return "xavier-normal"
	}
	return fmt.Sprintf("Init(%d)", int(i))
}

// Fill draws w's elements for a layer with the given fan-in and fan-out.
func (i Init) Fill(w []float64, fanIn, fanOut int, r *rand.Rand) {
	if r == nil {
		panic("nn: Init.Fill: nil *rand.Rand")
	}
	switch i {
	case KaimingUniform, XavierUniform:
		b := math.Sqrt(6 / float64(fanIn))
		if i == XavierUniform {
			b = math.Sqrt(6 / float64(fanIn+fanOut))
		}
		for k := range w {
			w[k] = (2*r.Float64() - 1) * b
		}
	case KaimingNormal, XavierNormal:
		sd := math.Sqrt(2 / float64(fanIn))
		if i == XavierNormal {
			sd = math.Sqrt(2 / float64(fanIn+fanOut))
		}
		for k := range w {
			w[k] = r.NormFloat64() * sd
		}
	default:
		panic(fmt.Sprintf("nn: unknown initializer %d", int(i)))
	}
}

// initTensor returns a tensor of the given shape filled by init.
func initTensor[T ad.Float](init Init, fanIn, fanOut int, r *rand.Rand, shape ...int) *tensor.Tensor[T] {
	w := tensor.New[T](shape...)
	buf := make([]float64, w.Len())
	init.Fill(buf, fanIn, fanOut, r)
	for k, v := range buf {
		w.Data()[k] = T(v)
	}
	return w
}

// Linear is a fully-connected layer, y = x·Wᵀ + b, for x of shape M×In:
// Weight is Out×In, Bias has Out elements (nil without bias).
type Linear[T ad.Float] struct {
	In, Out      int
	Weight, Bias *ad.Var[T]
}

var _ Module[float32] = (*Linear[float32])(nil)

// NewLinear returns a Linear layer with weights drawn by init from r and a
// zero bias (when bias is set).
func NewLinear[T ad.Float](in, out int, bias bool, init Init, r *rand.Rand) *Linear[T] {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewLinear(%d, %d): sizes must be positive", in, out))
	}
	l := &Linear[T]{In: in, Out: out, Weight: ad.NewParam("weight", initTensor[T](init, in, out, r, out, in))}
	if bias {
		l.Bias = ad.NewParam("bias", tensor.New[T](out))
	}
	return l
}

// Forward records y = x·Wᵀ + b.
func (l *Linear[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	return ad.Linear(t, x, l.Weight, l.Bias)
}

// Params returns [Weight, Bias] (or [Weight]).
func (l *Linear[T]) Params() []*ad.Var[T] {
	if l.Bias == nil {
		return []*ad.Var[T]{l.Weight}
	}
	return []*ad.Var[T]{l.Weight, l.Bias}
}

// Activation applies an elementwise activation function; it has no
// parameters.
type Activation[T ad.Float] struct{ Act ad.Act }

var _ Module[float32] = Activation[float32]{}

// Forward records y = σ(x).
func (a Activation[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	if a.Act.Kind == ad.Identity {
		return x
	}
	return ad.Activate(t, x, a.Act)
}

// Params returns nil.
func (Activation[T]) Params() []*ad.Var[T] { return nil }

// MLPConfig describes a multi-layer perceptron. The zero value of each field
// other than In and Out is a sensible default.
type MLPConfig struct {
	In, Out int
	// Hidden lists the hidden layer widths; empty gives a single layer.
	Hidden []int
	// Act is the hidden activation (default ReLU when Hidden is non-empty
	// and Act is the zero value Identity; set HiddenIdentity to keep
	// identity).
	Act ad.Act
	// HiddenIdentity keeps Identity hidden activations (a deep linear network).
	HiddenIdentity bool
	// OutAct is the output activation (default none).
	OutAct ad.Act
	// Init draws the weights (default KaimingUniform).
	Init Init
	// NoBias drops the biases.
	NoBias bool
}

// NewMLP builds In → Hidden… → Out with Act between layers and OutAct at
// the end, as a Sequential of Linear and Activation modules. Parameters are
// named "0.weight", "0.bias", "2.weight", … (activations take positions).
func NewMLP[T ad.Float](cfg MLPConfig, r *rand.Rand) *Sequential[T] {
	act := cfg.Act
	if act.Kind == ad.Identity && !cfg.HiddenIdentity {
		act = ad.Act{Kind: ad.ReLU}
	}
	var layers []Module[T]
	in := cfg.In
	for _, h := range cfg.Hidden {
		layers = append(layers, NewLinear[T](in, h, !cfg.NoBias, cfg.Init, r), Activation[T]{Act: act})
		in = h
	}
	layers = append(layers, NewLinear[T](in, cfg.Out, !cfg.NoBias, cfg.Init, r))
	if cfg.OutAct.Kind != ad.Identity {
		layers = append(layers, Activation[T]{Act: cfg.OutAct})
	}
	return NewSequential(layers...)
}
