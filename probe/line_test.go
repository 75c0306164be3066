package probe

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// fixture is a small float32 network with dropout, one batch, and a
// random direction.
type fixture struct {
	model  *nn.Sequential[float32]
	params []*ad.Var[float32]
	dir    []*tensor.Tensor[float32]
	obj    Objective[float32]
	tape   *ad.Tape[float32]
}

func newFixture(seed uint64) *fixture {
	r := rand.New(rand.NewPCG(seed, 1))
	m := nn.NewSequential[float32](
		nn.NewLinear[float32](5, 16, true, nn.KaimingUniform, r),
		nn.Activation[float32]{Act: ad.Act{Kind: ad.Tanh}},
		nn.Dropout[float32]{P: 0.5},
		nn.NewLinear[float32](16, 2, true, nn.KaimingUniform, r),
	)
	x, y := tensor.New[float32](8, 5), tensor.New[float32](8, 2)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	for i := range y.Data() {
		y.Data()[i] = float32(r.NormFloat64())
	}
	f := &fixture{model: m, params: m.Params(), tape: &ad.Tape[float32]{Train: true, Rand: rand.New(rand.NewPCG(seed, 2))}}
	for _, p := range f.params {
		d := tensor.New[float32](p.Shape()...)
		for i := range d.Data() {
			d.Data()[i] = float32(r.NormFloat64() * 0.1)
		}
		f.dir = append(f.dir, d)
	}
	f.obj = func(t *ad.Tape[float32]) *ad.Var[float32] {
		return ad.MeanSquaredError(t, m.Forward(t, t.Const(x)), y)
	}
	return f
}

func bits(ps []*ad.Var[float32]) []uint32 {
	var out []uint32
	for _, p := range ps {
		for _, v := range p.Value.Data() {
			out = append(out, math.Float32bits(v))
		}
	}
	return out
}

func TestAtRestoresParametersBitForBit(t *testing.T) {
	f := newFixture(1)
	before := bits(f.params)
	l := New(f.params, f.dir)
	l.Reset(f.tape, f.obj, nil)
	for _, a := range []float64{0.3, -1e-3, 7, 1e-9, 0} {
		l.At(a)
		after := bits(f.params)
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("after At(%g) parameter element %d changed: %#x → %#x", a, i, before[i], after[i])
			}
		}
	}
}

// Every evaluation of one line sees the dropout masks of its first
// recording: g(a) is a function of a alone.
func TestDropoutMasksAreReplayed(t *testing.T) {
	f := newFixture(2)
	l := New(f.params, f.dir)
	l.Reset(f.tape, f.obj, nil)
	g0 := l.At(0)
	ga := l.At(0.5)
	if again := l.At(0.5); again != ga {
		t.Fatalf("g(0.5) evaluated twice: %v then %v: the mask was redrawn", ga, again)
	}
	if again := l.At(0); again != g0 {
		t.Fatalf("g(0) evaluated again after g(0.5): %v then %v", g0, again)
	}
	// A new line (the next step) draws new masks: the values change.
	l.Reset(f.tape, f.obj, nil)
	if l.At(0) == g0 {
		t.Fatal("a reset line reproduced the previous masks exactly; expected a fresh draw")
	}
}

func TestCountsAndFreeValues(t *testing.T) {
	f := newFixture(3)
	l := New(f.params, f.dir)
	l.Reset(f.tape, f.obj, nil) // fresh/stream: g(0) costs a forward
	g0 := l.At(0)
	l.At(0.1)
	l.At(-0.1)
	if again := l.At(0); again != g0 { // g(0) is remembered, not recomputed
		t.Fatalf("g(0) = %v, then %v", g0, again)
	}
	if l.Forwards != 1 || l.Replays != 2 || l.Jets != 0 {
		t.Fatalf("forwards %d, replays %d, jets %d; want 1, 2 and 0", l.Forwards, l.Replays, l.Jets)
	}
	// The jet after the replays sees the values at θ again: it equals the
	// jet of a fresh line on the same batch and masks.
	_, d1, d2 := l.Jet(ad.Hessian)
	f.tape.ReplayRandom = true
	f.tape.Reset()
	loss0 := f.obj(f.tape)
	f.tape.ReplayRandom = false
	_, e1, e2 := f.tape.Jet(loss0, f.params, f.dir, ad.Hessian)
	if -d1 != e1 || d2 != e2 {
		t.Fatalf("jet after replays (%v, %v), on a fresh recording (%v, %v)", -d1, d2, e1, e2)
	}
	// Same: the training forward is given, so g(0) and the jet are free.
	f.tape.Reset()
	loss := f.obj(f.tape)
	l.Reset(f.tape, f.obj, loss)
	before, jets := l.Forwards, l.Jets
	if got := l.At(0); got != ad.Scalar(loss) {
		t.Fatalf("g(0) = %v, training loss %v", got, ad.Scalar(loss))
	}
	l.Jet(ad.Hessian)
	if l.Forwards != before || l.Jets != jets+1 {
		t.Fatalf("same-batch g(0) and jet ran %d forwards and %d jets; want 0 and 1", l.Forwards-before, l.Jets-jets)
	}
}

// Slope from the training gradient equals the jet's g'(0), and both equal a
// finite difference of the line (float64, no dropout).
func TestSlopeAgreesWithJetAndDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	m := nn.NewMLP[float64](nn.MLPConfig{In: 3, Hidden: []int{7}, Out: 2, Act: ad.Act{Kind: ad.Tanh}}, r)
	x, y := tensor.New[float64](6, 3), tensor.New[float64](6, 2)
	for i := range x.Data() {
		x.Data()[i] = r.NormFloat64()
	}
	obj := func(t *ad.Tape[float64]) *ad.Var[float64] {
		return ad.MeanSquaredError(t, m.Forward(t, t.Const(x)), y)
	}
	var dir, grads []*tensor.Tensor[float64]
	for _, p := range m.Params() {
		d := tensor.New[float64](p.Shape()...)
		for i := range d.Data() {
			d.Data()[i] = r.NormFloat64()
		}
		dir, grads = append(dir, d), append(grads, p.Grad)
	}
	tape := &ad.Tape[float64]{}
	loss := obj(tape)
	ad.ZeroGrad(m.Params())
	tape.Backward(loss)
	l := New(m.Params(), dir)
	l.Reset(tape, obj, loss)
	l.SetGradient(grads)
	_, s := l.Slope()
	_, d1, _ := l.Jet(ad.Hessian)
	fd := numcheck.FirstDerivative(l.At, 1e-4)
	// Slope and jet are exact up to rounding; the Richardson difference has
	// truncation O(h⁴) ≈ 1e-16 and rounding ≈ 1e-12 relative.
	if numcheck.Rel(s, d1, 1e-12) > 1e-10 || numcheck.Rel(s, fd, 1e-12) > 1e-7 {
		t.Fatalf("g'(0): from the gradient %v, jet %v, finite differences %v", s, d1, fd)
	}
}

// A grouped line moved by (α₀, α₁) is the plain line along the direction
// v = α₀·u₀ + α₁·u₁ at α = 1, and its jet with weights w is the plain jet
// along w₀·u₀ + w₁·u₁: checked against a second, identical network (same
// dropout masks) whose direction is v.
func TestGroupsMatchScaledDirection(t *testing.T) {
	group := []int{0, 0, 1, 1} // the two layers
	for _, alphas := range [][]float64{{0.3, 0.3}, {0.5, -0.2}, {0, 1.5}} {
		f, g := newFixture(7), newFixture(7)
		for i, d := range g.dir {
			tensor.Scale(d, d, float32(alphas[group[i]]))
		}
		grouped := New(f.params, f.dir)
		grouped.SetGroups(group, 2)
		grouped.Reset(f.tape, f.obj, nil)
		plain := New(g.params, g.dir)
		plain.Reset(g.tape, g.obj, nil)
		got, want := grouped.AtGroups(alphas), plain.At(1)
		if numcheck.Rel(got, want, 1e-6) > 1e-5 {
			t.Errorf("AtGroups(%v) = %v, plain line along Σαᵢuᵢ at 1: %v", alphas, got, want)
		}
		g0, d1, d2 := grouped.JetGroups(alphas, ad.Hessian)
		h0, e1, e2 := plain.Jet(ad.Hessian)
		if numcheck.Rel(g0, h0, 1e-6) > 1e-5 || numcheck.Rel(d1, e1, 1e-6) > 1e-5 || numcheck.Rel(d2, e2, 1e-6) > 1e-5 {
			t.Errorf("JetGroups(%v) = %v %v %v, plain jet %v %v %v", alphas, g0, d1, d2, h0, e1, e2)
		}
		if a, b := grouped.At(0.2), grouped.AtGroups([]float64{0.2, 0.2}); numcheck.Rel(a, b, 1e-6) > 1e-5 {
			t.Errorf("At(0.2) = %v on a grouped line, AtGroups(0.2, 0.2) = %v", a, b)
		}
	}
}
