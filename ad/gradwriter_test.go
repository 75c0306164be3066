package ad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/tensor"
)

// writerGraph records a small network in which values have several
// consumers, gradWriters (Linear, Add, Activate, CausalSelfAttention,
// SoftmaxCrossEntropy) and plain accumulating rules (Mul, LayerNorm) in
// both orders, and one Add of a value with itself:
//
//	h  = Linear(x, W1, b1)                       consumers: Linear, Mul, Add
//	o  = CausalSelfAttention(Linear(h, Wq, bq))
//	r  = Add(Add(Mul(h, h), o), h);  r2 = Add(r, r)
//	n  = LayerNorm(r2)                           consumers: two Linears
//	m  = GELU(Linear(n, Wf, bf));    q = Add(Mul(m, m), m)
//	L  = SoftmaxCrossEntropy(Linear(q, Wo) + Linear(n, Wn))
type writerGraph[T Float] struct {
	params []*Var[T]
	x      *tensor.Tensor[T]
	labels []int
}

func newWriterGraph[T Float](r *rand.Rand) *writerGraph[T] {
	const rows, d, classes = 6, 4, 5
	g := &writerGraph[T]{x: tensor.New[T](rows, d), labels: []int{0, 3, 1, 4, 2, 3}}
	for i := range g.x.Data() {
		g.x.Data()[i] = T(r.NormFloat64())
	}
	for _, s := range [][]int{{d, d}, {d}, {3 * d, d}, {3 * d}, {d}, {d}, {2 * d, d}, {2 * d}, {classes, 2 * d}, {classes, d}} {
		v := tensor.New[T](s...)
		for i := range v.Data() {
			v.Data()[i] = T(0.7 * r.NormFloat64())
		}
		g.params = append(g.params, NewParam(fmt.Sprint("p", len(g.params)), v))
	}
	return g
}

func (g *writerGraph[T]) record(t *Tape[T]) *Var[T] {
	t.Reset()
	p := g.params
	h := Linear(t, t.Const(g.x), p[0], p[1])
	o := CausalSelfAttention(t, Linear(t, h, p[2], p[3]), 2, 2, 1/math.Sqrt2)
	r := Add(t, Add(t, Mul(t, h, h), o), h)
	n := LayerNorm(t, Add(t, r, r), p[4], p[5], 1e-5)
	m := Activate(t, Linear(t, n, p[6], p[7]), Act{Kind: GELU})
	q := Add(t, Mul(t, m, m), m)
	return SoftmaxCrossEntropy(t, Add(t, Linear(t, q, p[8], nil), Linear(t, n, p[9], nil)), g.labels)
}

// grads runs Backward from zeroed parameter gradients and returns copies.
func (g *writerGraph[T]) grads(t *Tape[T]) [][]T {
	f := g.record(t)
	ZeroGrad(g.params)
	t.Backward(f)
	var out [][]T
	for _, p := range g.params {
		out = append(out, append([]T(nil), p.Grad.Data()...))
	}
	return out
}

// poison fills the gradient buffer of every recorded value with NaN: a
// rule that added to a gradient no rule had written would spread it.
func poison[T Float](t *Tape[T]) {
	for _, v := range t.nodes[:t.n] {
		if v.Grad != nil && v.op != nil {
			tensor.Fill(v.Grad, T(math.NaN()))
		}
	}
}

// TestGradWritersOverwriteFreshGradients checks the gradient of
// writerGraph against central differences in float64, then, in float64
// and float32, that the gradients are the same bits when every
// intermediate gradient buffer held NaN before Backward: a gradWriter
// overwrites a gradient no rule has written yet, adds to one that holds a
// partial sum, and Backward zeroes the rest.
func TestGradWritersOverwriteFreshGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 1))
	g := newWriterGraph[float64](r)
	tape := &Tape[float64]{}
	first := g.grads(tape)
	for i, p := range g.params {
		want := numcheck.Gradient(func() float64 { return g.record(tape).Value.Item() }, p.Value.Data(), fdStep)
		if e := numcheck.RelErr(first[i], want, 1e-8); e > tolVJP {
			t.Errorf("gradient of %s: %v, finite differences %v (rel. err %.2g > %g)", p.Name, first[i], want, e, tolVJP)
		}
	}
	checkPoisoned(t, g, tape, first)

	g32 := newWriterGraph[float32](rand.New(rand.NewPCG(10, 2)))
	tape32 := &Tape[float32]{}
	checkPoisoned(t, g32, tape32, g32.grads(tape32))
}

func checkPoisoned[T Float](t *testing.T, g *writerGraph[T], tape *Tape[T], want [][]T) {
	t.Helper()
	g.record(tape)
	poison(tape)
	got := g.grads(tape)
	for i := range want {
		for j := range want[i] {
			if math.Float64bits(float64(got[i][j])) != math.Float64bits(float64(want[i][j])) {
				t.Fatalf("%T: gradient of %s[%d] after poisoned buffers: %v, want %v", T(0), g.params[i].Name, j, got[i][j], want[i][j])
			}
		}
	}
}
