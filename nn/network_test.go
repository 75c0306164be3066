package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/loss"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// Whole-network checks: gradients against central differences, the jet's
// first term against ∇f·u, its second term against second differences of
// the loss along u, the Gauss–Newton term against an oracle built from
// finite differences of the network output and the loss's own Hessian, and
// float32 against float64.

// Tolerances (float64 unless stated).
const (
	// tolGrad bounds the norm-wise relative error of the gradient against
	// central differences with step gradStep (truncation ~1e-12; on ReLU
	// networks the step is far below the distance to the nearest kink).
	tolGrad  = 1e-6
	gradStep = 1e-6
	// tolD1 bounds |ḟ − ∇f·u|/|∇f·u|: both are exact up to rounding.
	tolD1 = 1e-10
	// lineStep is the step of the Richardson second difference of
	// α ↦ f(θ + α·u). Small, so that it does not straddle a ReLU or
	// max-pool kink (CALIBRATION.md measured 1e-3 to fail and 1e-5 to work
	// on ReLU networks); its rounding noise is then about ε·|f|/h² ≈ 1e-6
	// relative, hence tolD2.
	lineStep = 1e-5
	tolD2    = 1e-4
	// tolGN bounds the relative error of uᵀGu against the oracle, whose
	// output tangent ż comes from Richardson first differences (error
	// ~ε/h ≈ 1e-11 relative).
	tolGN = 1e-7
	// tol32 bounds the relative difference of f, ḟ and f̈ between float32
	// and float64: float32 rounding (6e-8) amplified by sums of a few
	// hundred terms and by the cancellations of the second-order terms.
	tol32 = 2e-4
)

// netCase is a network, a batch and a loss.
type netCase struct {
	name   string
	build  func(seed uint64) (nn.Module[float64], nn.Module[float32])
	x      func(r *rand.Rand) *tensor.Tensor[float64]
	kind   loss.Kind
	labels []int
	target *tensor.Tensor[float64]
	train  bool // dropout active (masks drawn once, then replayed)
}

// mlp builds In 4 → 6 → 5 → out with act between the layers, and a final
// log-softmax when logSoftmax is set.
func mlp(act ad.Act, out int, logSoftmax bool) func(uint64) (nn.Module[float64], nn.Module[float32]) {
	return func(seed uint64) (nn.Module[float64], nn.Module[float32]) {
		cfg := nn.MLPConfig{In: 4, Hidden: []int{6, 5}, Out: out, Act: act, HiddenIdentity: act.Kind == ad.Identity}
		m64 := nn.NewMLP[float64](cfg, rand.New(rand.NewPCG(seed, 1)))
		m32 := nn.NewMLP[float32](cfg, rand.New(rand.NewPCG(seed, 1)))
		if logSoftmax {
			m64.Layers = append(m64.Layers, nn.LogSoftmax[float64]{})
			m32.Layers = append(m32.Layers, nn.LogSoftmax[float32]{})
		}
		return m64, m32
	}
}

// smallCNN: conv 3×3 (1→3, padding 1) → ReLU → max-pool 2 → [dropout] →
// flatten → linear (27→4), on 1×6×6 images.
func smallCNN[T ad.Float](seed uint64, dropout bool) nn.Module[T] {
	r := rand.New(rand.NewPCG(seed, 2))
	layers := []nn.Module[T]{
		nn.NewConv2D[T](1, 3, 3, nn.ConvConfig{Padding: 1}, r),
		nn.Activation[T]{Act: ad.Act{Kind: ad.ReLU}},
		nn.MaxPool2D[T]{Kernel: 2},
	}
	if dropout {
		layers = append(layers, nn.Dropout[T]{P: 0.3})
	}
	layers = append(layers, nn.Flatten[T]{}, nn.NewLinear[T](27, 4, true, nn.KaimingUniform, r))
	return nn.NewSequential(layers...)
}

func randn(r *rand.Rand, shape ...int) *tensor.Tensor[float64] {
	t := tensor.New[float64](shape...)
	for i := range t.Data() {
		t.Data()[i] = r.NormFloat64()
	}
	return t
}

func netCases() []netCase {
	var cs []netCase
	acts := []ad.Act{{Kind: ad.Identity}, {Kind: ad.ReLU}, {Kind: ad.LeakyReLU, Slope: 0.1}, {Kind: ad.Tanh}, {Kind: ad.Sigmoid}, {Kind: ad.GELU}, {Kind: ad.SiLU}, {Kind: ad.Softplus}}
	mlpIn := func(r *rand.Rand) *tensor.Tensor[float64] { return randn(r, 5, 4) }
	for _, a := range acts {
		cs = append(cs, netCase{name: "mlp-" + a.String() + "-ce", build: mlp(a, 3, false), x: mlpIn, kind: loss.CE, labels: []int{0, 2, 1, 1, 0}})
	}
	r := rand.New(rand.NewPCG(99, 98))
	cs = append(cs,
		netCase{name: "mlp-tanh-half-sq", build: mlp(ad.Act{Kind: ad.Tanh}, 2, false), x: mlpIn, kind: loss.HalfSq, target: randn(r, 5, 2)},
		netCase{name: "mlp-relu-mse", build: mlp(ad.Act{Kind: ad.ReLU}, 2, false), x: mlpIn, kind: loss.MSE, target: randn(r, 5, 2)},
		netCase{name: "mlp-gelu-logsoftmax-nll", build: mlp(ad.Act{Kind: ad.GELU}, 3, true), x: mlpIn, kind: loss.NLL, labels: []int{2, 2, 0, 1, 0}},
		netCase{name: "cnn-relu-maxpool-ce", build: func(seed uint64) (nn.Module[float64], nn.Module[float32]) {
			return smallCNN[float64](seed, false), smallCNN[float32](seed, false)
		}, x: func(r *rand.Rand) *tensor.Tensor[float64] { return randn(r, 3, 1, 6, 6) }, kind: loss.CE, labels: []int{3, 0, 1}},
		netCase{name: "cnn-dropout-train-ce", build: func(seed uint64) (nn.Module[float64], nn.Module[float32]) {
			return smallCNN[float64](seed, true), smallCNN[float32](seed, true)
		}, x: func(r *rand.Rand) *tensor.Tensor[float64] { return randn(r, 3, 1, 6, 6) }, kind: loss.CE, labels: []int{2, 0, 3}, train: true},
		netCase{name: "gpt-untied-ce", build: tinyGPTs(nn.GPTConfig{Vocab: 5, Context: 4, Layers: 2, Heads: 2, Embed: 8}),
			x: gptTokens, kind: loss.CE, labels: []int{1, 4, 0, 2, 3, 3, 0, 1}},
		netCase{name: "gpt-tied-dropout-train-ce", build: tinyGPTs(nn.GPTConfig{Vocab: 5, Context: 4, Layers: 1, Heads: 2, Embed: 8, Tie: true, Dropout: 0.2}),
			x: gptTokens, kind: loss.CE, labels: []int{4, 4, 2, 0, 1, 3, 2, 0}, train: true},
	)
	return cs
}

// evaluator records model + loss on one tape, reused across evaluations.
type evaluator[T ad.Float] struct {
	body, head nn.Module[T] // head is a trailing LogSoftmax, or nil
	x          *tensor.Tensor[T]
	kind       loss.Kind
	target     loss.Target[T]
	tape       *ad.Tape[T]
	z          *ad.Var[T] // the output before head, of the last evaluation
}

func newEvaluator[T ad.Float](c netCase, model nn.Module[T], x *tensor.Tensor[float64]) *evaluator[T] {
	e := &evaluator[T]{body: model, x: tensor.Convert[T](x), kind: c.kind, tape: &ad.Tape[T]{}}
	if s, ok := model.(*nn.Sequential[T]); ok {
		if _, ok := s.Layers[len(s.Layers)-1].(nn.LogSoftmax[T]); ok {
			e.body, e.head = &nn.Sequential[T]{Layers: s.Layers[:len(s.Layers)-1]}, nn.LogSoftmax[T]{}
		}
	}
	if c.target != nil {
		e.target = loss.Values(tensor.Convert[T](c.target))
	} else {
		e.target = loss.Labels[T](c.labels)
	}
	if c.train {
		e.tape.Train = true
		e.tape.Rand = rand.New(rand.NewPCG(5, 5)) // same masks in float32 and float64
	}
	return e
}

func (e *evaluator[T]) eval() *ad.Var[T] {
	e.tape.Reset()
	e.z = e.body.Forward(e.tape, e.tape.Const(e.x))
	out := e.z
	if e.head != nil {
		out = e.head.Forward(e.tape, out)
	}
	l := loss.Record(e.tape, e.kind, out, e.target)
	if e.tape.Train {
		e.tape.ReplayRandom = true // every later evaluation sees the first masks
	}
	return l
}

// along evaluates fn at θ + α·u and restores θ bit for bit.
func along[T any](params []*ad.Var[float64], dirs []*tensor.Tensor[float64], a float64, fn func() T) T {
	saved := nn.Snapshot(params)
	for i, p := range params {
		tensor.Axpy(p.Value, a, dirs[i])
	}
	v := fn()
	nn.Restore(params, saved)
	return v
}

func TestNetworks(t *testing.T) {
	for ci, c := range netCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci), 3))
			m64, m32 := c.build(uint64(ci))
			x := c.x(r)
			e := newEvaluator(c, m64, x)
			params := m64.Params()

			// Gradient against central differences.
			f := e.eval()
			ad.ZeroGrad(params)
			e.tape.Backward(f)
			for _, p := range params {
				want := numcheck.Gradient(func() float64 { return e.eval().Value.Item() }, p.Value.Data(), gradStep)
				if err := numcheck.RelErr(p.Grad.Data(), want, 1e-8); err > tolGrad {
					t.Errorf("gradient of %s: rel. err %.2g > %g\n got %v\nwant %v", p.Name, err, tolGrad, p.Grad.Data(), want)
				}
			}

			for trial := range 2 {
				dirs := make([]*tensor.Tensor[float64], len(params))
				var gu float64
				for i, p := range params {
					dirs[i] = randn(r, p.Value.Shape()...)
					gu += tensor.Dot(p.Grad, dirs[i])
				}
				f := e.eval()
				f0, d1, d2 := e.tape.Jet(f, params, dirs, ad.Hessian)
				if err := numcheck.Rel(d1, gu, 1e-8); err > tolD1 {
					t.Errorf("trial %d: jet ḟ = %v, ∇f·u = %v (rel. err %.2g)", trial, d1, gu, err)
				}
				line := func(a float64) float64 {
					return along(params, dirs, a, func() float64 { return e.eval().Value.Item() })
				}
				want2 := numcheck.SecondDerivative(line, lineStep)
				if err := numcheck.Rel(d2, want2, 1e-3*(1+math.Abs(f0))); err > tolD2 {
					t.Errorf("trial %d: jet f̈ = %v, second differences %v (rel. err %.2g)", trial, d2, want2, err)
				}

				// Gauss–Newton: uᵀGu = żᵀ·H_loss·ż with ż = J·u.
				f = e.eval()
				_, _, gn := e.tape.Jet(f, params, dirs, ad.GaussNewton)
				want := gnOracle(t, c, e, params, dirs)
				if gn < 0 {
					t.Errorf("trial %d: uᵀGu = %v < 0", trial, gn)
				}
				if err := numcheck.Rel(gn, want, 1e-8); err > tolGN {
					t.Errorf("trial %d: uᵀGu = %v, oracle %v (rel. err %.2g)", trial, gn, want, err)
				}

				// float32 against float64, same parameters rounded.
				e32 := newEvaluator(c, m32, x)
				f32 := e32.eval()
				dirs32 := make([]*tensor.Tensor[float32], len(dirs))
				for i := range dirs {
					dirs32[i] = tensor.Convert[float32](dirs[i])
				}
				g0, g1, g2 := e32.tape.Jet(f32, m32.Params(), dirs32, ad.Hessian)
				f = e.eval()
				f0, d1, d2 = e.tape.Jet(f, params, dirs, ad.Hessian)
				for _, q := range []struct {
					name      string
					got, want float64
				}{{"f", g0, f0}, {"ḟ", g1, d1}, {"f̈", g2, d2}} {
					if err := numcheck.Rel(q.got, q.want, 1e-3); err > tol32 {
						t.Errorf("trial %d: float32 %s = %v, float64 %v (rel. err %.2g > %g)", trial, q.name, q.got, q.want, err, tol32)
					}
				}
			}
		})
	}
}

// gnOracle returns żᵀ·H_loss·ż, with ż the Richardson central difference
// of the network output (the logits for nll: the output before the final
// log-softmax) along u, and H_loss the Hessian of the loss in the output,
// written out here: 2/(M·K)·I (mse), 1/M·I (half-sq), 1/M·(diag p − ppᵀ)
// per row with p = softmax(z) (ce, and nll after a log-softmax).
func gnOracle(t *testing.T, c netCase, e *evaluator[float64], params []*ad.Var[float64], dirs []*tensor.Tensor[float64]) float64 {
	t.Helper()
	output := func(a float64) []float64 {
		return along(params, dirs, a, func() []float64 {
			e.eval()
			return slices.Clone(e.z.Value.Data())
		})
	}
	z := output(0)
	h := 1e-4
	zp, zm, zp2, zm2 := output(h), output(-h), output(h/2), output(-h/2)
	dz := make([]float64, len(z))
	for i := range dz {
		d1 := (zp[i] - zm[i]) / (2 * h)
		d2 := (zp2[i] - zm2[i]) / h
		dz[i] = (4*d2 - d1) / 3
	}
	m := e.x.Rows()
	if c.labels != nil {
		m = len(c.labels) // a sequence model predicts at every position
	}
	k := len(z) / m
	var s float64
	switch c.kind {
	case loss.MSE, loss.HalfSq:
		for _, v := range dz {
			s += v * v
		}
		if c.kind == loss.MSE {
			return 2 * s / float64(m*k)
		}
		return s / float64(m)
	case loss.CE, loss.NLL:
		for i := range m {
			row, drow := z[i*k:(i+1)*k], dz[i*k:(i+1)*k]
			mx := slices.Max(row)
			var sum float64
			p := make([]float64, k)
			for j, v := range row {
				p[j] = math.Exp(v - mx)
				sum += p[j]
			}
			var pz, pzz float64
			for j := range p {
				p[j] /= sum
				pz += p[j] * drow[j]
				pzz += p[j] * drow[j] * drow[j]
			}
			s += pzz - pz*pz
		}
		return s / float64(m)
	}
	panic(fmt.Sprint("unknown loss ", c.kind))
}
