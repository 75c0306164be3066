package nn_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// layerByLayer applies the layers of s one by one, so that nothing is
// fused: the reference for Sequential's fused convolutions.
type layerByLayer[T ad.Float] struct{ s *nn.Sequential[T] }

func (l layerByLayer[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	for _, m := range l.s.Layers {
		x = m.Forward(t, x)
	}
	return x
}

func (l layerByLayer[T]) Params() []*ad.Var[T] { return l.s.Params() }

// TestSequentialFusesConvolutions: in the default CNN, Sequential records
// the second convolution, its ReLU and the pooling as one Conv2DReLU and
// the first (which reads the data) with its ReLU alone, and the network's
// loss, gradients and jet are those of the layer-by-layer recording: bit
// for bit but for the convolutions' bias gradients, whose sums run in
// another order (float64, relative 1e-12).
func TestSequentialFusesConvolutions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	net := nn.NewCNN[float64](nn.CNNConfig{Height: 12, Width: 12, NoDropout: true}, r)
	const batch = 11
	x := tensor.New[float64](batch, 1, 12, 12)
	for i := range x.Data() {
		x.Data()[i] = r.Float64()
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = r.IntN(10)
	}
	params := net.Params()
	dirs := make([]*tensor.Tensor[float64], len(params))
	for i, p := range params {
		dirs[i] = tensor.New[float64](p.Shape()...)
		for j := range dirs[i].Data() {
			dirs[i].Data()[j] = r.NormFloat64()
		}
	}
	type result struct {
		names []string
		grads [][]float64
		jet   [3]float64
	}
	run := func(m nn.Module[float64]) result {
		tape := &ad.Tape[float64]{}
		out := m.Forward(tape, tape.Const(x))
		f := loss.Record(tape, loss.CE, out, loss.Labels[float64](labels))
		var res result
		for v := out; v.Op() != nil; v = v.In(0) {
			res.names = append(res.names, v.Op().Name())
		}
		ad.ZeroGrad(params)
		tape.Backward(f)
		for _, p := range params {
			res.grads = append(res.grads, slices.Clone(p.Grad.Data()))
		}
		res.jet[0], res.jet[1], res.jet[2] = tape.Jet(f, params, dirs, ad.Hessian)
		return res
	}
	got, want := run(net), run(layerByLayer[float64]{net})
	if !slices.Contains(got.names, "Conv2DReLU+MaxPool2D") || !slices.Contains(got.names, "Conv2DReLU") {
		t.Errorf("fused network records %v; want the second convolution fused with its ReLU and pooling, the first with its ReLU", got.names)
	}
	if slices.ContainsFunc(want.names, func(s string) bool { return s == "Conv2DReLU+MaxPool2D" }) {
		t.Fatalf("the layer-by-layer reference fused: %v", want.names)
	}
	if got.jet != want.jet {
		t.Errorf("jet (f, ∇f·u, uᵀHu) = %v fused, %v layer by layer", got.jet, want.jet)
	}
	const tolBias = 1e-12
	for i, p := range params {
		for j, g := range got.grads[i] {
			w := want.grads[i][j]
			if p.Name == "0.bias" || p.Name == "2.bias" {
				if math.Abs(g-w) > tolBias*(1+math.Abs(w)) {
					t.Errorf("%s[%d] = %v fused, %v layer by layer", p.Name, j, g, w)
				}
				continue
			}
			if g != w {
				t.Errorf("%s[%d] = %v fused, %v layer by layer", p.Name, j, g, w)
			}
		}
	}
}
