package nn_test

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// gptBench is nanoGPT's small-CPU recipe (4 layers, 4 heads, width 128,
// context 64) on a batch of 12 sequences over 65 characters, in float32:
// the loss recorded on a tape, its parameters and a random direction.
type gptBench struct {
	g      *nn.GPT[float32]
	tape   *ad.Tape[float32]
	x      *tensor.Tensor[float32]
	labels []int
	dirs   []*tensor.Tensor[float32]
}

func newGPTBench() *gptBench {
	const vocab, ctx, batch = 65, 64, 12
	r := rand.New(rand.NewPCG(1, 2))
	g := nn.NewGPT[float32](nn.GPTConfig{Vocab: vocab, Context: ctx}, r)
	x := tensor.New[float32](batch, ctx)
	labels := make([]int, batch*ctx)
	for i := range x.Data() {
		x.Data()[i] = float32(r.IntN(vocab))
		labels[i] = r.IntN(vocab)
	}
	var dirs []*tensor.Tensor[float32]
	for _, p := range g.Params() {
		d := tensor.New[float32](p.Value.Shape()...)
		for i := range d.Data() {
			d.Data()[i] = float32(r.NormFloat64() * 1e-3)
		}
		dirs = append(dirs, d)
	}
	return &gptBench{g: g, tape: &ad.Tape[float32]{}, x: x, labels: labels, dirs: dirs}
}

func (b *gptBench) forward() *ad.Var[float32] {
	b.tape.Reset()
	return loss.Record(b.tape, loss.CE, b.g.Forward(b.tape, b.tape.Const(b.x)), loss.Labels[float32](b.labels))
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process's CPU milliseconds per operation since start:
// on a shared machine it varies much less than the wall-clock ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkGPT times one forward pass, one backward pass (after a
// forward, not counted) and one exact jet (f, ∇f·u, uᵀHu; after a
// forward) of the default GPT configuration at 1 and 2 GEMM threads. The
// cpu-ms/op metric of backward and jet includes their untimed forward.
// Tokens per second of a training step are 768 / (forward + backward).
func BenchmarkGPT(b *testing.B) {
	for _, threads := range []int{1, 2} {
		kernel.SetThreads(threads)
		s := newGPTBench()
		params := s.g.Params()
		b.Run("forward/threads="+itoa(threads), func(b *testing.B) {
			b.ReportAllocs()
			c := cpuTime()
			for b.Loop() {
				s.forward()
			}
			reportCPU(b, c)
		})
		b.Run("backward/threads="+itoa(threads), func(b *testing.B) {
			b.ReportAllocs()
			c := cpuTime()
			for b.Loop() {
				b.StopTimer()
				f := s.forward()
				ad.ZeroGrad(params)
				b.StartTimer()
				s.tape.Backward(f)
			}
			reportCPU(b, c)
		})
		b.Run("jet/threads="+itoa(threads), func(b *testing.B) {
			b.ReportAllocs()
			c := cpuTime()
			for b.Loop() {
				b.StopTimer()
				f := s.forward()
				b.StartTimer()
				s.tape.Jet(f, params, s.dirs, ad.Hessian)
			}
			reportCPU(b, c)
		})
	}
	kernel.SetThreads(0)
}

func itoa(n int) string { return string(rune('0' + n)) }
