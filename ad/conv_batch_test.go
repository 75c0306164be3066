package ad

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// TestConv2DBatchGradient checks the weight and bias gradients of a batch
// spanning several gradient groups (convGroup images each, the last one
// partial) against the definition: the loss Σ r ⊙ conv(x, W, b) is linear
// in W, so ∂/∂W[k] = Σ r ⊙ conv(x, e_k, 0) with e_k the k-th unit filter
// (naiveConv, float64), and ∂/∂b[o] = Σ_{n,i,j} r[n,o,i,j].
func TestConv2DBatchGradient(t *testing.T) {
	for _, pad := range []int{1, 0} { // 0: the wide layout
		testConv2DBatchGradient(t, pad)
	}
}

func testConv2DBatchGradient(t *testing.T, pad int) {
	r := rand.New(rand.NewPCG(8, 9))
	n := 2*convGroup + 3
	x, w, b := randTensor(r, n, 2, 6, 5), randTensor(r, 3, 2, 3, 2), randTensor(r, 3)
	const stride = 1
	wv, bv := NewParam("w", w), NewParam("b", b)
	tape := &Tape[float64]{}
	y := Conv2D(tape, tape.Const(x), wv, bv, stride, pad)
	rt := randTensor(r, y.Shape()...)
	ZeroGrad([]*Var[float64]{wv, bv})
	tape.Backward(Sum(tape, Mul(tape, y, tape.Const(rt))))

	dot := func(a []float64) float64 {
		s := 0.0
		for i, v := range a {
			s += v * rt.Data()[i]
		}
		return s
	}
	for k := range w.Len() {
		e := tensor.New[float64](w.Shape()...)
		e.Data()[k] = 1
		want := dot(naiveConv(x, e, nil, stride, pad))
		if got := wv.Grad.Data()[k]; math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
			t.Errorf("padding %d: W̄[%d] = %v, want %v (batch %d)", pad, k, got, want, n)
		}
	}
	l := y.Value.Dim(2) * y.Value.Dim(3)
	for o := range b.Len() {
		want := 0.0
		for img := range n {
			for _, v := range rt.Data()[(img*3+o)*l : (img*3+o+1)*l] {
				want += v
			}
		}
		if got := bv.Grad.Data()[o]; math.Abs(got-want) > 1e-10*(1+math.Abs(want)) {
			t.Errorf("padding %d: b̄[%d] = %v, want %v (batch %d)", pad, o, got, want, n)
		}
	}
}

// TestConv2DThreadInvariance: the forward values, every gradient and the
// jet of a convolution (float32, a batch of several gradient groups) are
// the same bits whatever the thread count that spreads the images.
func TestConv2DThreadInvariance(t *testing.T) {
	defer kernel.SetThreads(0)
	r := rand.New(rand.NewPCG(10, 11))
	fill := func(shape ...int) *tensor.Tensor[float32] {
		v := tensor.New[float32](shape...)
		for i := range v.Data() {
			v.Data()[i] = float32(r.NormFloat64())
		}
		return v
	}
	n := 3*convGroup + 5
	x, w, b := NewParam("x", fill(n, 3, 9, 8)), NewParam("w", fill(4, 3, 3, 3)), NewParam("b", fill(4))
	params := []*Var[float32]{x, w, b}
	dirs := []*tensor.Tensor[float32]{fill(n, 3, 9, 8), fill(4, 3, 3, 3), fill(4)}
	for _, c := range []struct{ stride, pad, oh, ow int }{{2, 1, 5, 4}, {1, 0, 7, 6}} {
		testConv2DThreads(t, x, w, b, params, dirs, fill(n, 4, c.oh, c.ow), c.stride, c.pad)
	}
}

func testConv2DThreads(t *testing.T, x, w, b *Var[float32], params []*Var[float32], dirs []*tensor.Tensor[float32], rt *tensor.Tensor[float32], stride, pad int) {
	type result struct {
		y, gx, gw, gb []float32
		jet           [3]float64
	}
	run := func(threads int) result {
		kernel.SetThreads(threads)
		tape := &Tape[float32]{}
		y := Conv2D(tape, x, w, b, stride, pad)
		f := Sum(tape, Mul(tape, Activate(tape, y, Act{Kind: Tanh}), tape.Const(rt)))
		ZeroGrad(params)
		tape.Backward(f)
		var res result
		res.y = slices.Clone(y.Value.Data())
		res.gx, res.gw, res.gb = slices.Clone(x.Grad.Data()), slices.Clone(w.Grad.Data()), slices.Clone(b.Grad.Data())
		res.jet[0], res.jet[1], res.jet[2] = tape.Jet(f, params, dirs, Hessian)
		return res
	}
	want := run(1)
	for _, threads := range []int{2, 3, 5} {
		got := run(threads)
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"y", got.y, want.y}, {"x̄", got.gx, want.gx}, {"W̄", got.gw, want.gw}, {"b̄", got.gb, want.gb}} {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("stride %d, padding %d, %d threads: %s differs from one thread's", stride, pad, threads, c.name)
			}
		}
		if got.jet != want.jet {
			t.Errorf("stride %d, padding %d, %d threads: jet (f, ∇f·u, uᵀHu) = %v, one thread %v", stride, pad, threads, got.jet, want.jet)
		}
	}
}

// TestMaxPool2x2 checks the unrolled 2×2, stride-2 pooling against the
// definition on data full of ties, odd sizes included (the last row and
// column dropped): the maximum, and the gradient routed to the first
// maximum of each window in row-major order.
func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	const n, c, h, w = 3, 2, 7, 6
	xt := tensor.New[float64](n, c, h, w)
	for i := range xt.Data() {
		xt.Data()[i] = float64(r.IntN(3))
	}
	x := NewParam("x", xt)
	tape := &Tape[float64]{}
	y := MaxPool2D(tape, x, 2, 2)
	ZeroGrad([]*Var[float64]{x})
	tape.Backward(Sum(tape, y))
	oh, ow := h/2, w/2
	wantGrad := make([]float64, xt.Len())
	for plane := range n * c {
		for i := range oh {
			for j := range ow {
				best, bi := math.Inf(-1), -1
				for p := range 2 {
					for q := range 2 {
						k := plane*h*w + (2*i+p)*w + 2*j + q
						if xt.Data()[k] > best {
							best, bi = xt.Data()[k], k
						}
					}
				}
				if got := y.Value.Data()[(plane*oh+i)*ow+j]; got != best {
					t.Fatalf("plane %d window (%d,%d): max %v, want %v", plane, i, j, got, best)
				}
				wantGrad[bi]++
			}
		}
	}
	if !slices.Equal(x.Grad.Data(), wantGrad) {
		t.Errorf("gradient %v, want %v (the first maximum of each window)", x.Grad.Data(), wantGrad)
	}
}

// TestBackwardStaleGradient: Backward zeroes each gradient just before the
// first rule adds to it; a recorded value with no consumer on the way to
// the output (here b, used only by a later output) must still count as a
// zero gradient, not as what an earlier Backward left in its buffer.
func TestBackwardStaleGradient(t *testing.T) {
	p := NewParam("p", tensor.FromSlice([]float64{1, -2}, 2))
	tape := &Tape[float64]{}
	a := Scale(tape, p, 2)
	b := Scale(tape, p, 3)
	f := Sum(tape, a)
	g := Sum(tape, b)
	ZeroGrad([]*Var[float64]{p})
	tape.Backward(g) // leaves b's gradient at 1
	if got := p.Grad.Data(); !slices.Equal(got, []float64{3, 3}) {
		t.Fatalf("∂Σ3p/∂p = %v, want [3 3]", got)
	}
	ZeroGrad([]*Var[float64]{p})
	tape.Backward(f)
	if got := p.Grad.Data(); !slices.Equal(got, []float64{2, 2}) {
		t.Errorf("∂Σ2p/∂p = %v, want [2 2] (a stale gradient of an unused value leaked in)", got)
	}
	if got := b.Grad.Data(); !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("gradient of the unused value b = %v, want zeros", got)
	}
}

// TestElementwiseThreads: activations and max pooling large enough to be
// split over the threads (several chunks of elemChunk elements, the last
// one partial) give the definition's values and gradients, the same bits
// at every thread count.
func TestElementwiseThreads(t *testing.T) {
	defer kernel.SetThreads(0)
	r := rand.New(rand.NewPCG(14, 15))
	const n, c, h, w = 4, 16, 61, 40 // 156 160 elements: two chunks and a rest; 64 planes
	x := NewParam("x", randTensor(r, n, c, h, w))
	rt := randTensor(r, n, c, h/2, w/2)
	for _, kind := range []ActKind{ReLU, Tanh} {
		var first []float64
		for _, threads := range []int{1, 2, 3} {
			kernel.SetThreads(threads)
			tape := &Tape[float64]{}
			a := Activate(tape, x, Act{Kind: kind})
			y := MaxPool2D(tape, a, 2, 2)
			ZeroGrad([]*Var[float64]{x})
			tape.Backward(Sum(tape, Mul(tape, y, tape.Const(rt))))
			// The definition: σ elementwise, the first maximum of each
			// window, the gradient routed to it times σ'.
			want := make([]float64, x.Value.Len())
			for plane := range n * c {
				for i := range h / 2 {
					for j := range w / 2 {
						best, bi := math.Inf(-1), -1
						for p := range 2 {
							for q := range 2 {
								k := plane*h*w + (2*i+p)*w + 2*j + q
								v, _, _ := Act{Kind: kind}.Eval(x.Value.Data()[k])
								if v > best {
									best, bi = v, k
								}
							}
						}
						o := (plane*(h/2)+i)*(w/2) + j
						if got := y.Value.Data()[o]; math.Abs(got-best) > 1e-15 {
							t.Fatalf("%v, %d threads: output %d = %v, want %v", kind, threads, o, got, best)
						}
						_, d, _ := Act{Kind: kind}.Eval(x.Value.Data()[bi])
						want[bi] = d * rt.Data()[o]
					}
				}
			}
			for k, g := range x.Grad.Data() {
				if math.Abs(g-want[k]) > 1e-15 {
					t.Fatalf("%v, %d threads: x̄[%d] = %v, want %v", kind, threads, k, g, want[k])
				}
			}
			if first == nil {
				first = slices.Clone(x.Grad.Data())
			} else if !slices.Equal(first, x.Grad.Data()) {
				t.Errorf("%v: x̄ at %d threads differs from one thread's", kind, threads)
			}
		}
	}
}

// TestConv2DBatchGradient32: the float32 weight gradient of a layer with
// few channels (kernel.RowDots32 instead of a GEMM, rowDotsMaxOC) against
// its definition in float64, W̄[o,c,p,q] = Σ_{n,i,j} r[n,o,i,j]·x[n, c,
// i+p−pad, j+q−pad] (0 outside x), in the wide and the padded layouts, at
// one and three threads.
func TestConv2DBatchGradient32(t *testing.T) {
	defer kernel.SetThreads(0)
	r := rand.New(rand.NewPCG(10, 11))
	const n, c, h, wd, oc, k = 2*convGroup + 3, 2, 9, 8, rowDotsMaxOC, 3
	x, w, b := randTensor(r, n, c, h, wd), randTensor(r, oc, c, k, k), randTensor(r, oc)
	to32 := func(v *tensor.Tensor[float64]) *tensor.Tensor[float32] {
		out := tensor.New[float32](v.Shape()...)
		for i, e := range v.Data() {
			out.Data()[i] = float32(e)
			v.Data()[i] = float64(out.Data()[i]) // the oracle sees the float32 values
		}
		return out
	}
	x32, w32, b32 := to32(x), to32(w), to32(b)
	for _, pad := range []int{0, 1} {
		oh, ow := h+2*pad-k+1, wd+2*pad-k+1
		rt := randTensor(r, n, oc, oh, ow)
		rt32 := to32(rt)
		want, mag := make([]float64, w.Len()), make([]float64, w.Len())
		xd, rd := x.Data(), rt.Data()
		for o := range oc {
			for ci := range c {
				for p := range k {
					for q := range k {
						idx := ((o*c+ci)*k+p)*k + q
						for img := range n {
							for i := range oh {
								for j := range ow {
									xi, xj := i+p-pad, j+q-pad
									if xi < 0 || xi >= h || xj < 0 || xj >= wd {
										continue
									}
									v := rd[((img*oc+o)*oh+i)*ow+j] * xd[((img*c+ci)*h+xi)*wd+xj]
									want[idx] += v
									mag[idx] += math.Abs(v)
								}
							}
						}
					}
				}
			}
		}
		for _, threads := range []int{1, 3} {
			kernel.SetThreads(threads)
			wv, bv := NewParam("w", w32), NewParam("b", b32)
			tape := &Tape[float32]{}
			y := Conv2D(tape, tape.Const(x32), wv, bv, 1, pad)
			ZeroGrad([]*Var[float32]{wv, bv})
			tape.Backward(Sum(tape, Mul(tape, y, tape.Const(rt32))))
			for i, g := range wv.Grad.Data() {
				// float32 sums of n·OH·OW terms: 1e-6 of their magnitudes.
				if d := math.Abs(float64(g) - want[i]); d > 1e-6*mag[i] {
					t.Errorf("padding %d, %d threads: W̄[%d] = %v, want %v", pad, threads, i, g, want[i])
				}
			}
		}
	}
}
