package nn

import (
	"fmt"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Module is a layer or a network: it records y = layer(x) on the tape and
// lists its parameters in a fixed order.
type Module[T ad.Float] interface {
	Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T]
	Params() []*ad.Var[T]
}

// Sequential chains modules: y = m_n(…m_2(m_1(x))). Its parameters are named
// "i.name" after the position i of the module that owns them, as PyTorch's
// nn.Sequential does.
type Sequential[T ad.Float] struct {
	Layers []Module[T]
}

var _ Module[float32] = (*Sequential[float32])(nil)

// NewSequential chains layers and prefixes their parameter names with their
// positions.
func NewSequential[T ad.Float](layers ...Module[T]) *Sequential[T] {
	for i, l := range layers {
		for _, p := range l.Params() {
			p.Name = fmt.Sprintf("%d.%s", i, p.Name)
		}
	}
	return &Sequential[T]{Layers: layers}
}

// Forward applies the layers in order. A convolution followed by ReLU (and
// max pooling) is recorded as one fused primitive (see fuseConv): the
// same values, gradients and tangents.
func (s *Sequential[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	for i := 0; i < len(s.Layers); i++ {
		if y, used := fuseConv(t, x, s.Layers[i:]); used > 0 {
			x, i = y, i+used-1
			continue
		}
		x = s.Layers[i].Forward(t, x)
	}
	return x
}

// Params returns the parameters of all layers, in layer order.
func (s *Sequential[T]) Params() []*ad.Var[T] {
	var ps []*ad.Var[T]
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// ParamInfo describes one parameter.
type ParamInfo struct {
	Name  string
	Shape []int
}

// Describe lists the names and shapes of the parameters.
func Describe[T ad.Float](params []*ad.Var[T]) []ParamInfo {
	out := make([]ParamInfo, len(params))
	for i, p := range params {
		out[i] = ParamInfo{Name: p.Name, Shape: p.Value.Shape()}
	}
	return out
}

// NumParams returns the total number of scalar parameters.
func NumParams[T ad.Float](params []*ad.Var[T]) int {
	n := 0
	for _, p := range params {
		n += p.Value.Len()
	}
	return n
}

// Snapshot returns deep copies of the parameter values, in order.
func Snapshot[T ad.Float](params []*ad.Var[T]) []*tensor.Tensor[T] {
	out := make([]*tensor.Tensor[T], len(params))
	for i, p := range params {
		out[i] = p.Value.Clone()
	}
	return out
}

// SaveTo copies the parameter values into dst (same order and shapes),
// reusing dst's storage: the allocation-free twin of Snapshot.
func SaveTo[T ad.Float](dst []*tensor.Tensor[T], params []*ad.Var[T]) {
	checkLen("SaveTo", len(dst), len(params))
	for i, p := range params {
		tensor.Copy(dst[i], p.Value)
	}
}

// Restore copies values (as returned by Snapshot) back into the parameters,
// bit for bit. It panics if the count or a shape differs.
func Restore[T ad.Float](params []*ad.Var[T], values []*tensor.Tensor[T]) {
	checkLen("Restore", len(values), len(params))
	for i, p := range params {
		if !tensor.SameShape(p.Value, values[i]) {
			panic(fmt.Sprintf("nn: Restore: value %d has shape %v, parameter %q has %v", i, values[i].Shape(), p.Name, p.Value.Shape()))
		}
		tensor.Copy(p.Value, values[i])
	}
}

func checkLen(op string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("nn: %s: %d tensors for %d parameters", op, a, b))
	}
}
