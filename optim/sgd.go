package optim

import "github.com/genopt/gen/tensor"

// SGDConfig configures SGD. The zero value is plain SGD.
type SGDConfig struct {
	Common // WeightDecay is coupled L2: g ← g + λθ.
}

// SGD is stochastic gradient descent (Robbins & Monro 1951): the direction is
// the gradient itself,
//
//	u = g + λθ        (g clipped when ClipNorm is set; λ = WeightDecay)
//
// so that the caller's θ ← θ − α·u is the classical update. It has no state
// but the step count.
type SGD[T tensor.Float] struct {
	base[T]
	wd float64
}

var _ Optimizer[float32] = (*SGD[float32])(nil)
var _ Optimizer[float64] = (*SGD[float64])(nil)

// NewSGD returns an SGD optimizer configured by cfg.
func NewSGD[T tensor.Float](cfg SGDConfig) *SGD[T] {
	return &SGD[T]{
		base: newBase[T]("sgd", cfg.Common),
		wd:   setting("NewSGD", "WeightDecay", cfg.WeightDecay, 0),
	}
}

// Name returns "sgd".
func (o *SGD[T]) Name() string { return o.kind }

// State returns the step count.
func (o *SGD[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *SGD[T]) SetState(s State) error { return o.setState(s) }

// Direction writes u[i] = m_i·(c·g[i] + λθ[i]), with c the clipping factor and
// m_i the group multiplier.
func (o *SGD[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd := T(o.wd)
	for i, p := range params {
		pd, gd := p.Data(), grads[i].Data()
		ud := u[i].Data()[:len(pd)]
		gd = gd[:len(pd)]
		m := o.mult[i]
		if m == 1 && c == 1 && wd == 0 {
			copy(ud, gd) // the same numbers, without the arithmetic
			continue
		}
		for j, th := range pd {
			ud[j] = m * (c*gd[j] + wd*th)
		}
	}
}

// MomentumConfig configures Momentum.
type MomentumConfig struct {
	Common // WeightDecay is coupled L2: g ← g + λθ.
	// Momentum is μ in [0, 1). Default 0.9 (Sutskever et al. 2013).
	Momentum float64
	// Dampening is d in [0, 1]: the buffer adds (1−d)·g. Default 0.
	Dampening float64
	// Nesterov selects Nesterov's accelerated gradient in the form of
	// Sutskever et al. 2013 (u = g + μb) instead of heavy-ball (u = b).
	Nesterov bool
}

// Momentum is SGD with heavy-ball momentum (Polyak 1964) or Nesterov momentum
// (Sutskever et al., "On the importance of initialization and momentum in
// deep learning", ICML 2013, eq. 3–4), in PyTorch's form, where the learning
// rate multiplies the whole buffer:
//
//	ĝ = c·g + λθ
//	b ← ĝ                         on the first step
//	b ← μ·b + (1−d)·ĝ             afterwards
//	u = b                         (heavy-ball)
//	u = ĝ + μ·b                   (Nesterov)
//
// State: the buffer b ("momentum").
type Momentum[T tensor.Float] struct {
	base[T]
	wd, mu, damp float64
	nesterov     bool
}

var _ Optimizer[float32] = (*Momentum[float32])(nil)
var _ Optimizer[float64] = (*Momentum[float64])(nil)

// NewMomentum returns a Momentum optimizer configured by cfg; its Name is
// "nesterov" when cfg.Nesterov is set and "momentum" otherwise.
func NewMomentum[T tensor.Float](cfg MomentumConfig) *Momentum[T] {
	kind := "momentum"
	if cfg.Nesterov {
		kind = "nesterov"
	}
	o := &Momentum[T]{
		base:     newBase[T](kind, cfg.Common, "momentum"),
		wd:       setting("NewMomentum", "WeightDecay", cfg.WeightDecay, 0),
		mu:       beta("NewMomentum", "Momentum", cfg.Momentum, 0.9),
		damp:     setting("NewMomentum", "Dampening", cfg.Dampening, 0),
		nesterov: cfg.Nesterov,
	}
	if o.damp > 1 {
		panic("optim: NewMomentum: Dampening > 1, want 0 ≤ d ≤ 1")
	}
	return o
}

// Name returns "momentum" or "nesterov".
func (o *Momentum[T]) Name() string { return o.kind }

// State returns the step count and the momentum buffer.
func (o *Momentum[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *Momentum[T]) SetState(s State) error { return o.setState(s) }

// Direction advances the momentum buffer and writes the direction.
func (o *Momentum[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd, mu, keep := T(o.wd), T(o.mu), T(1-o.damp)
	first := o.step == 1
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		bd := o.bufs[0][i][:len(pd)]
		m := o.mult[i]
		for j, th := range pd {
			g := c*gd[j] + wd*th
			var b T
			if first {
				b = g
			} else {
				b = mu*bd[j] + keep*g
			}
			bd[j] = b
			if o.nesterov {
				ud[j] = m * (g + mu*b)
			} else {
				ud[j] = m * b
			}
		}
	}
}
