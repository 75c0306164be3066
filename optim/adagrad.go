package optim

import (
	"math"

	"github.com/genopt/gen/tensor"
)

// AdagradConfig configures Adagrad. The zero value gives PyTorch's defaults.
type AdagradConfig struct {
	Common // WeightDecay is coupled L2: g ← g + λθ.
	// Eps is ε > 0, added to √s. Default 1e-10.
	Eps float64
	// InitialAccumulator is s's starting value s₀ ≥ 0. Default 0.
	InitialAccumulator float64
}

// Adagrad is the diagonal adaptive subgradient method of Duchi, Hazan &
// Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
// Optimization", JMLR 12, 2011 (the diagonal update of Section 1.1 / Figure
// 1, with ε in PyTorch's place):
//
//	ĝ = c·g + λθ
//	s ← s + ĝ²             (s starts at s₀)
//	u = ĝ/(√s + ε)
//
// The decay of the step size over time is in s; PyTorch's lr_decay is a
// schedule, which belongs to the caller's α. State: "sum".
type Adagrad[T tensor.Float] struct {
	base[T]
	wd, eps, s0 float64
}

var _ Optimizer[float32] = (*Adagrad[float32])(nil)
var _ Optimizer[float64] = (*Adagrad[float64])(nil)

// NewAdagrad returns an Adagrad optimizer configured by cfg.
func NewAdagrad[T tensor.Float](cfg AdagradConfig) *Adagrad[T] {
	const op = "NewAdagrad"
	o := &Adagrad[T]{
		base: newBase[T]("adagrad", cfg.Common, "sum"),
		wd:   setting(op, "WeightDecay", cfg.WeightDecay, 0),
		eps:  setting(op, "Eps", cfg.Eps, 1e-10),
		s0:   setting(op, "InitialAccumulator", cfg.InitialAccumulator, 0),
	}
	if o.eps == 0 {
		panic("optim: " + op + ": Eps = Off, want ε > 0")
	}
	return o
}

// Name returns "adagrad".
func (o *Adagrad[T]) Name() string { return o.kind }

// State returns the step count and the sum of squared gradients.
func (o *Adagrad[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *Adagrad[T]) SetState(s State) error { return o.setState(s) }

// Direction accumulates the squared gradient and writes the direction.
func (o *Adagrad[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd, eps := T(o.wd), T(o.eps)
	first := o.step == 1
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		sd := o.bufs[0][i][:len(pd)]
		if first && o.s0 != 0 {
			for j := range sd {
				sd[j] = T(o.s0)
			}
		}
		mult := o.mult[i]
		for j, th := range pd {
			g := c*gd[j] + wd*th
			s := sd[j] + g*g
			sd[j] = s
			ud[j] = mult * (g / (T(math.Sqrt(float64(s))) + eps))
		}
	}
}
