package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// step is one recorded training evaluation of a model on a fixed batch:
// forward, loss, and the buffers for backward and jet.
type step[T ad.Float] struct {
	model  nn.Module[T]
	params []*ad.Var[T]
	tape   *ad.Tape[T]
	x      *tensor.Tensor[T]
	target loss.Target[T]
	dirs   []*tensor.Tensor[T]
}

func newStep[T ad.Float](model nn.Module[T], inShape []int, classes int, train bool, seed uint64) *step[T] {
	r := rand.New(rand.NewPCG(seed, 7))
	s := &step[T]{model: model, params: model.Params(), tape: &ad.Tape[T]{Train: train, Rand: r}, x: tensor.New[T](inShape...)}
	for i := range s.x.Data() {
		s.x.Data()[i] = T(r.Float64())
	}
	labels := make([]int, inShape[0])
	for i := range labels {
		labels[i] = r.IntN(classes)
	}
	s.target = loss.Labels[T](labels)
	for _, p := range s.params {
		d := tensor.New[T](p.Value.Shape()...)
		for i := range d.Data() {
			d.Data()[i] = T(r.NormFloat64())
		}
		s.dirs = append(s.dirs, d)
	}
	return s
}

func (s *step[T]) forward() *ad.Var[T] {
	s.tape.Reset()
	return loss.Record(s.tape, loss.CE, s.model.Forward(s.tape, s.tape.Const(s.x)), s.target)
}

// train is one training step's differentiation: forward, zero, backward.
func (s *step[T]) train() {
	f := s.forward()
	ad.ZeroGrad(s.params)
	s.tape.Backward(f)
}

func mlpBench() nn.Module[float32] {
	return nn.NewMLP[float32](nn.MLPConfig{In: 784, Hidden: []int{256}, Out: 10}, rand.New(rand.NewPCG(1, 1)))
}

func cnnBench() nn.Module[float32] {
	return nn.NewCNN[float32](nn.CNNConfig{}, rand.New(rand.NewPCG(1, 1)))
}

// benchPasses reports forward, backward, jet and a whole step separately.
func benchPasses(b *testing.B, s *step[float32]) {
	b.Run("forward", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.forward()
		}
	})
	b.Run("backward", func(b *testing.B) {
		f := s.forward()
		b.ReportAllocs()
		for b.Loop() {
			s.tape.Backward(f)
		}
	})
	b.Run("jet", func(b *testing.B) {
		f := s.forward()
		b.ReportAllocs()
		for b.Loop() {
			s.tape.Jet(f, s.params, s.dirs, ad.Hessian)
		}
	})
	b.Run("jet-gauss-newton", func(b *testing.B) {
		f := s.forward()
		b.ReportAllocs()
		for b.Loop() {
			s.tape.Jet(f, s.params, s.dirs, ad.GaussNewton)
		}
	})
	b.Run("train-step", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.train()
		}
	})
}

// BenchmarkMLP: the 784-256-10 ReLU MLP, batch 128, float32, softmax-CE.
func BenchmarkMLP(b *testing.B) { benchPasses(b, newStep(mlpBench(), []int{128, 784}, 10, false, 1)) }

// BenchmarkCNN: the default CNN (8 and 16 channels, hidden 64), batch 32,
// float32, softmax-CE, dropout active.
func BenchmarkCNN(b *testing.B) {
	benchPasses(b, newStep(cnnBench(), []int{32, 1, 28, 28}, 10, true, 1))
}

// maxStepAllocs bounds the allocations of a steady-state training step
// (forward, zero, backward on a reset tape) plus a jet replay: none.
const maxStepAllocs = 0

// TestSteadyStateAllocs: after warm-up, a training step and a jet replay
// do not allocate, for any batch size and width (the tape reuses its nodes,
// buffers and the primitives' scratch).
func TestSteadyStateAllocs(t *testing.T) {
	for _, arch := range []struct {
		name  string
		build func(width int) nn.Module[float32]
		in    func(batch int) []int
	}{
		{"mlp", func(w int) nn.Module[float32] {
			return nn.NewMLP[float32](nn.MLPConfig{In: 20, Hidden: []int{w, w}, Out: 10}, rand.New(rand.NewPCG(1, 1)))
		}, func(m int) []int { return []int{m, 20} }},
		{"cnn", func(w int) nn.Module[float32] {
			return nn.NewCNN[float32](nn.CNNConfig{Conv1: w / 8, Conv2: w / 4, Hidden: w, Height: 12, Width: 12}, rand.New(rand.NewPCG(1, 1)))
		}, func(m int) []int { return []int{m, 1, 12, 12} }},
	} {
		var counts []float64
		var sizes []string
		for _, size := range [][2]int{{4, 16}, {32, 16}, {4, 64}, {64, 64}} {
			s := newStep(arch.build(size[1]), arch.in(size[0]), 10, true, 2)
			// One step is a training step plus a jet replay (the exact GeN
			// curvature); the first run allocates the buffers (warm-up).
			run := func() {
				s.train()
				s.tape.Jet(s.forward(), s.params, s.dirs, ad.Hessian)
			}
			run()
			n := testing.AllocsPerRun(20, run)
			counts = append(counts, n)
			sizes = append(sizes, fmt.Sprintf("batch %d width %d", size[0], size[1]))
		}
		for i, n := range counts {
			if n != counts[0] || n > maxStepAllocs {
				t.Errorf("%s: %s: %v allocations per step; want the same for every size (%s: %v) and ≤ %d", arch.name, sizes[i], n, sizes[0], counts[0], maxStepAllocs)
			}
		}
		t.Logf("%s: %v allocations per step at %v", arch.name, counts, sizes)
	}
}
