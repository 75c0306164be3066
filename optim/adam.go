package optim

import (
	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// AdamConfig configures Adam. The zero value gives the defaults of Kingma &
// Ba 2015, Algorithm 1.
type AdamConfig struct {
	Common // WeightDecay is coupled L2: g ← g + λθ (PyTorch's Adam weight_decay).
	// Beta1 is β₁ in [0, 1), the first-moment decay. Default 0.9; Off gives 0.
	Beta1 float64
	// Beta2 is β₂ in [0, 1), the second-moment decay. Default 0.999.
	Beta2 float64
	// Eps is ε > 0, added to √v̂. Default 1e-8.
	Eps float64
}

// AdamWConfig configures AdamW. The zero value gives PyTorch's defaults for
// the hyperparameters of Loshchilov & Hutter 2019, Algorithm 2.
type AdamWConfig struct {
	Common // WeightDecay is the decoupled λ. Default 0.01; Off gives 0.
	// Beta1 is β₁ in [0, 1). Default 0.9; Off gives 0.
	Beta1 float64
	// Beta2 is β₂ in [0, 1). Default 0.999.
	Beta2 float64
	// Eps is ε > 0. Default 1e-8.
	Eps float64
}

// Adam is the adaptive moment method of Kingma & Ba, "Adam: A Method for
// Stochastic Optimization", ICLR 2015, Algorithm 1, with bias correction:
//
//	ĝ = c·g + λθ                       (coupled decay, clipped gradient)
//	m ← β₁·m + (1−β₁)·ĝ
//	v ← β₂·v + (1−β₂)·ĝ²
//	m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)       (t = step count, from 1)
//	u = m̂/(√v̂ + ε)
//
// The caller's α plays the paper's step size α. The moments and the direction
// are computed in one pass over the data. State: "m" and "v".
type Adam[T tensor.Float] struct {
	adam[T]
}

// AdamW is Adam with decoupled weight decay, Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2 (with the
// schedule multiplier η_t folded into the caller's α):
//
//	m, v, m̂, v̂ as in Adam, from the clipped gradient without decay
//	u = m̂/(√v̂ + ε) + λθ
//
// The caller's θ ← θ − α·u therefore decays θ by α·λ per step, exactly as
// PyTorch's AdamW does with lr·weight_decay: a rule that changes α changes
// the effective decay with it. State: "m" and "v".
type AdamW[T tensor.Float] struct {
	adam[T]
}

var _ Optimizer[float32] = (*Adam[float32])(nil)
var _ Optimizer[float64] = (*Adam[float64])(nil)
var _ Optimizer[float32] = (*AdamW[float32])(nil)
var _ Optimizer[float64] = (*AdamW[float64])(nil)
var _ Updater[float32] = (*Adam[float32])(nil)
var _ Updater[float64] = (*AdamW[float64])(nil)

// adam is the shared implementation of Adam (coupled decay) and AdamW
// (decoupled decay).
type adam[T tensor.Float] struct {
	base[T]
	b1, b2, eps float64
	wd          float64 // λ
	decoupled   bool
}

// NewAdam returns an Adam optimizer configured by cfg.
func NewAdam[T tensor.Float](cfg AdamConfig) *Adam[T] {
	return &Adam[T]{newAdam[T]("adam", cfg.Common, cfg.Beta1, cfg.Beta2, cfg.Eps, 0, false)}
}

// NewAdamW returns an AdamW optimizer configured by cfg.
func NewAdamW[T tensor.Float](cfg AdamWConfig) *AdamW[T] {
	return &AdamW[T]{newAdam[T]("adamw", cfg.Common, cfg.Beta1, cfg.Beta2, cfg.Eps, 0.01, true)}
}

func newAdam[T tensor.Float](kind string, c Common, b1, b2, eps, wdDefault float64, decoupled bool) adam[T] {
	op := kind
	o := adam[T]{
		base:      newBase[T](kind, c, "m", "v"),
		b1:        beta(op, "Beta1", b1, 0.9),
		b2:        beta(op, "Beta2", b2, 0.999),
		eps:       setting(op, "Eps", eps, 1e-8),
		wd:        setting(op, "WeightDecay", c.WeightDecay, wdDefault),
		decoupled: decoupled,
	}
	if o.eps == 0 {
		panic("optim: " + op + ": Eps = Off, want ε > 0")
	}
	return o
}

// Name returns "adam" or "adamw".
func (o *adam[T]) Name() string { return o.kind }

// State returns the step count and the moments "m" and "v".
func (o *adam[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *adam[T]) SetState(s State) error { return o.setState(s) }

// Direction advances the moments and writes the bias-corrected direction.
// The per-element work is kernel.AdamDirection (assembly for float32 on
// amd64, the same operations in the same order as its pure-Go twin).
func (o *adam[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	s := o.stepScalars(u, params, grads)
	for i, p := range params {
		pd := p.Data()
		s.Mult = float64(o.mult[i])
		kernel.AdamDirection(u[i].Data()[:len(pd)], o.bufs[0][i][:len(pd)], o.bufs[1][i][:len(pd)], grads[i].Data()[:len(pd)], pd, s)
	}
}

// Update advances the moments and applies θ ← θ − lr·u in the same pass
// (kernel.AdamUpdate): the bits of Direction followed by
// tensor.Axpy(θ, −lr, u), without the direction's buffer.
func (o *adam[T]) Update(params, grads []*tensor.Tensor[T], lr T) {
	s := o.stepScalars(nil, params, grads)
	for i, p := range params {
		pd := p.Data()
		s.Mult = float64(o.mult[i])
		kernel.AdamUpdate(o.bufs[0][i][:len(pd)], o.bufs[1][i][:len(pd)], grads[i].Data()[:len(pd)], pd, s, -lr)
	}
}

// stepScalars begins a step (checks, clipping factor, step count) and
// returns its scalars; the caller sets Mult per parameter.
func (o *adam[T]) stepScalars(u, params, grads []*tensor.Tensor[T]) kernel.AdamStep {
	c := o.begin(u, params, grads)
	s := kernel.AdamStep{Beta1: o.b1, Beta2: o.b2, Eps: o.eps, T: int(o.step), GradScale: float64(c)}
	if o.decoupled {
		s.Decoupled = o.wd // λ added to the direction
	} else {
		s.Coupled = o.wd // λ added to the gradient
	}
	return s
}
