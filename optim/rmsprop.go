package optim

import (
	"math"

	"github.com/genopt/gen/tensor"
)

// RMSPropConfig configures RMSProp. The zero value gives PyTorch's defaults.
type RMSPropConfig struct {
	Common // WeightDecay is coupled L2: g ← g + λθ.
	// Alpha is the squared-gradient decay ρ in [0, 1). Default 0.99
	// (PyTorch; Tieleman & Hinton's lecture uses 0.9).
	Alpha float64
	// Eps is ε > 0, added to the root mean square. Default 1e-8.
	Eps float64
	// Momentum is μ in [0, 1); 0 (the default) means no momentum buffer.
	Momentum float64
	// Centered divides by an estimate of the gradient's standard deviation
	// instead of its root mean square (Graves 2013, eq. 38–40).
	Centered bool
}

// RMSProp divides the gradient by a running root mean square of its recent
// values (Tieleman & Hinton, "Lecture 6.5 – RMSProp", COURSERA: Neural
// Networks for Machine Learning, 2012), in PyTorch's form:
//
//	ĝ = c·g + λθ
//	s ← ρ·s + (1−ρ)·ĝ²
//	a ← ρ·a + (1−ρ)·ĝ,  r = √(s − a²) + ε      (Centered)
//	r = √s + ε                                 (otherwise)
//	b ← μ·b + ĝ/r,  u = b                      (Momentum > 0)
//	u = ĝ/r                                    (otherwise)
//
// State: "square_avg", plus "grad_avg" when centered and "momentum" when
// μ > 0.
type RMSProp[T tensor.Float] struct {
	base[T]
	wd, rho, eps, mu float64
	centered         bool
	iAvg, iMom       int // buffer indices of grad_avg and momentum, −1 if absent
}

var _ Optimizer[float32] = (*RMSProp[float32])(nil)
var _ Optimizer[float64] = (*RMSProp[float64])(nil)

// NewRMSProp returns an RMSProp optimizer configured by cfg.
func NewRMSProp[T tensor.Float](cfg RMSPropConfig) *RMSProp[T] {
	const op = "NewRMSProp"
	o := &RMSProp[T]{
		wd:       setting(op, "WeightDecay", cfg.WeightDecay, 0),
		rho:      beta(op, "Alpha", cfg.Alpha, 0.99),
		eps:      setting(op, "Eps", cfg.Eps, 1e-8),
		mu:       beta(op, "Momentum", cfg.Momentum, 0),
		centered: cfg.Centered,
		iAvg:     -1,
		iMom:     -1,
	}
	if o.eps == 0 {
		panic("optim: " + op + ": Eps = Off, want ε > 0")
	}
	names := []string{"square_avg"}
	if o.centered {
		o.iAvg = len(names)
		names = append(names, "grad_avg")
	}
	if o.mu > 0 {
		o.iMom = len(names)
		names = append(names, "momentum")
	}
	o.base = newBase[T]("rmsprop", cfg.Common, names...)
	return o
}

// Name returns "rmsprop".
func (o *RMSProp[T]) Name() string { return o.kind }

// State returns the step count and the running averages.
func (o *RMSProp[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *RMSProp[T]) SetState(s State) error { return o.setState(s) }

// Direction advances the running averages and writes the direction.
func (o *RMSProp[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd, rho, a, eps, mu := T(o.wd), T(o.rho), T(1-o.rho), T(o.eps), T(o.mu)
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		sd := o.bufs[0][i][:len(pd)]
		var ad, bd []T
		if o.iAvg >= 0 {
			ad = o.bufs[o.iAvg][i][:len(pd)]
		}
		if o.iMom >= 0 {
			bd = o.bufs[o.iMom][i][:len(pd)]
		}
		mult := o.mult[i]
		for j, th := range pd {
			g := c*gd[j] + wd*th
			s := rho*sd[j] + a*g*g
			sd[j] = s
			if ad != nil {
				avg := rho*ad[j] + a*g
				ad[j] = avg
				s -= avg * avg
			}
			d := g / (T(math.Sqrt(float64(s))) + eps)
			if bd != nil {
				d += mu * bd[j]
				bd[j] = d
			}
			ud[j] = mult * d
		}
	}
}
