package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor[float64] {
	t := tensor.New[float64](shape...)
	for i := range t.Data() {
		t.Data()[i] = r.NormFloat64()
	}
	return t
}

// jetAlpha computes α* = (∇f·u)/(uᵀHu) for the SGD direction with the ad
// engine: an independent route through backprop and the jet.
func jetAlpha(s SingleLayer, x, y *tensor.Tensor[float64]) float64 {
	w, b := ad.NewParam("w", s.W.Clone()), ad.NewParam("b", s.B.Clone())
	tape := &ad.Tape[float64]{}
	loss := ad.HalfSquaredError(tape, ad.Activate(tape, ad.Linear(tape, tape.Const(x), w, b), s.Act), y)
	tape.Backward(loss)
	_, d1, d2 := tape.Jet(loss, []*ad.Var[float64]{w, b}, []*tensor.Tensor[float64]{w.Grad, b.Grad}, ad.Hessian)
	return d1 / d2
}

func TestSingleLayerClosedForm(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	acts := []ad.Act{{Kind: ad.ReLU}, {Kind: ad.LeakyReLU, Slope: 0.2}, {Kind: ad.Identity}}
	for _, act := range acts {
		for _, m := range []int{1, 2, 7, 64} {
			n0, n1 := 1+r.IntN(6), 1+r.IntN(4)
			t.Run(fmt.Sprintf("%s/M=%d/n0=%d/n1=%d", act, m, n0, n1), func(t *testing.T) {
				s := NewSingleLayer(randTensor(r, n1, n0), randTensor(r, n1), act)
				x, y := randTensor(r, m, n0), randTensor(r, m, n1)
				v, c := s.Gradient(x, y)
				num, den := s.Coefficients(x, y, v, c)
				lnum, lden := s.LiteralSGD(x, y)
				if numcheck.Rel(num, lnum, 1e-300) > 1e-10 || numcheck.Rel(den, lden, 1e-300) > 1e-10 {
					t.Fatalf("efficient (num %v, den %v) vs literal sums (%v, %v)", num, den, lnum, lden)
				}
				if den == 0 {
					return // every unit inactive: no curvature, nothing to compare
				}
				if got, want := num/den, jetAlpha(s, x, y); numcheck.Rel(got, want, 0) > 1e-10 {
					t.Fatalf("closed form α* %v, jet %v", got, want)
				}
			})
		}
	}
}

func TestSingleLayerBatchOneReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for range 20 {
		n0, n1 := 1+r.IntN(8), 1+r.IntN(5)
		s := NewSingleLayer(randTensor(r, n1, n0), randTensor(r, n1), ad.Act{Kind: ad.ReLU})
		x, y := randTensor(r, 1, n0), randTensor(r, 1, n1)
		_, d, _ := s.forward(x, y)
		active := false
		for _, v := range d.Data() {
			active = active || v != 0
		}
		if !active {
			continue
		}
		want := 1 / (1 + tensor.Dot(x, x))
		if got := s.AlphaSGD(x, y); numcheck.Rel(got, want, 0) > 1e-12 {
			t.Fatalf("batch 1, ReLU: α* = %v, want 1/(1 + ‖x‖²) = %v", got, want)
		}
	}
}

// lossAt returns L(θ − α·u) for u = (v, c).
func lossAt(s SingleLayer, x, y, v, c *tensor.Tensor[float64], a float64) float64 {
	w, b := s.W.Clone(), s.B.Clone()
	tensor.Axpy(w, -a, v)
	tensor.Axpy(b, -a, c)
	return SingleLayer{W: w, B: b, Act: s.Act}.Loss(x, y)
}

func TestSingleLayerValidityInterval(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	s := NewSingleLayer(randTensor(r, 3, 4), randTensor(r, 3), ad.Act{Kind: ad.ReLU})
	x, y := randTensor(r, 16, 4), randTensor(r, 16, 3)
	v, c := s.Gradient(x, y)
	num, den := s.Coefficients(x, y, v, c)
	l0 := s.Loss(x, y)
	lim := s.ValidityInterval(x, v, c)
	if !(lim > 0) || math.IsInf(lim, 0) {
		t.Fatalf("validity interval %v: want a finite positive crossing for a random ReLU layer", lim)
	}
	for _, f := range []float64{0.1, 0.5, 0.9, 0.999} {
		a := f * lim
		q := l0 - a*num + 0.5*a*a*den
		if got := lossAt(s, x, y, v, c, a); numcheck.Rel(got, q, 0) > 1e-12 {
			t.Fatalf("inside the interval (α = %g·A): loss %v, quadratic %v", f, got, q)
		}
	}
	// Past the interval some unit has switched: the quadratic no longer holds
	// somewhere beyond it.
	departed := false
	for _, f := range []float64{1.5, 2, 4, 8} {
		a := f * lim
		q := l0 - a*num + 0.5*a*a*den
		if numcheck.Rel(lossAt(s, x, y, v, c, a), q, 0) > 1e-9 {
			departed = true
		}
	}
	if !departed {
		t.Fatal("the loss stayed on the quadratic past the validity interval")
	}
}

// A constructed case: one ReLU unit, one example, pre-activation z = 1 and
// ż = 2 along +u, so the kink is crossed at α = 1/2 exactly.
func TestValidityIntervalConstructed(t *testing.T) {
	s := NewSingleLayer(tensor.FromSlice([]float64{1}, 1, 1), tensor.FromSlice([]float64{0}, 1), ad.Act{Kind: ad.ReLU})
	x := tensor.FromSlice([]float64{1}, 1, 1)
	y := tensor.FromSlice([]float64{3}, 1, 1)
	v, c := tensor.FromSlice([]float64{1}, 1, 1), tensor.FromSlice([]float64{1}, 1)
	if got := s.ValidityInterval(x, v, c); got != 0.5 {
		t.Fatalf("validity interval %v, want 0.5", got)
	}
	num, den := s.Coefficients(x, y, v, c)
	// e = 1 − 3 = −2, D = 1, ż = 2: num = −4, den = 4.
	if num != -4 || den != 4 {
		t.Fatalf("num, den = %v, %v; want −4, 4", num, den)
	}
	// At α = 1 the unit is off: the loss is ½·3² = 4.5, the quadratic says
	// 2 + 4 + 2 = 8.
	if got := lossAt(s, x, y, v, c, 1); got != 4.5 {
		t.Fatalf("loss past the kink %v, want 4.5", got)
	}
}

// Coefficients along an arbitrary direction (V, c) — as gen probe uses with
// Adam's directions — against the jet of the same line.
func TestSingleLayerArbitraryDirection(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for _, act := range []ad.Act{{Kind: ad.ReLU}, {Kind: ad.LeakyReLU, Slope: 0.3}, {Kind: ad.Identity}} {
		for range 5 {
			m, n0, n1 := 1+r.IntN(20), 1+r.IntN(6), 1+r.IntN(4)
			s := NewSingleLayer(randTensor(r, n1, n0), randTensor(r, n1), act)
			x, y := randTensor(r, m, n0), randTensor(r, m, n1)
			v, c := randTensor(r, n1, n0), randTensor(r, n1)
			num, den := s.Coefficients(x, y, v, c)
			w, b := ad.NewParam("w", s.W.Clone()), ad.NewParam("b", s.B.Clone())
			tape := &ad.Tape[float64]{}
			loss := ad.HalfSquaredError(tape, ad.Activate(tape, ad.Linear(tape, tape.Const(x), w, b), s.Act), y)
			_, d1, d2 := tape.Jet(loss, []*ad.Var[float64]{w, b}, []*tensor.Tensor[float64]{v, c}, ad.Hessian)
			if numcheck.Rel(num, d1, 1e-12) > 1e-10 || numcheck.Rel(den, d2, 1e-12) > 1e-10 {
				t.Fatalf("%s: closed form (num %v, den %v), jet (%v, %v)", act, num, den, d1, d2)
			}
		}
	}
}
