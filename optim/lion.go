package optim

import "github.com/genopt/gen/tensor"

// LionConfig configures Lion. The zero value gives the defaults of Chen et
// al. 2023.
type LionConfig struct {
	Common // WeightDecay is the decoupled λ (u ← u + λθ). Default 0.
	// Beta1 is β₁ in [0, 1), the interpolation weight of the update. Default
	// 0.9; Off gives 0.
	Beta1 float64
	// Beta2 is β₂ in [0, 1), the momentum decay. Default 0.99; Off gives 0.
	Beta2 float64
}

// Lion is the sign-momentum optimizer found by program search in Chen et al.,
// "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023, Algorithm 2
// (Program 1):
//
//	ĝ = c·g
//	u = sign(β₁·m + (1−β₁)·ĝ) + λθ      (sign(0) = 0)
//	m ← β₂·m + (1−β₂)·ĝ
//
// Every coordinate of the sign term is ±1 or 0, so ‖u‖ is large compared to
// Adam's: the paper's learning rates are 3–10× smaller than AdamW's, and its
// λ correspondingly larger. State: "m".
type Lion[T tensor.Float] struct {
	base[T]
	wd, b1, b2 float64
}

var _ Optimizer[float32] = (*Lion[float32])(nil)
var _ Optimizer[float64] = (*Lion[float64])(nil)

// NewLion returns a Lion optimizer configured by cfg.
func NewLion[T tensor.Float](cfg LionConfig) *Lion[T] {
	const op = "NewLion"
	return &Lion[T]{
		base: newBase[T]("lion", cfg.Common, "m"),
		wd:   setting(op, "WeightDecay", cfg.WeightDecay, 0),
		b1:   beta(op, "Beta1", cfg.Beta1, 0.9),
		b2:   beta(op, "Beta2", cfg.Beta2, 0.99),
	}
}

// Name returns "lion".
func (o *Lion[T]) Name() string { return o.kind }

// State returns the step count and the momentum "m".
func (o *Lion[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *Lion[T]) SetState(s State) error { return o.setState(s) }

// Direction writes the signed interpolation and advances the momentum.
func (o *Lion[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd := T(o.wd)
	b1, a1, b2, a2 := T(o.b1), T(1-o.b1), T(o.b2), T(1-o.b2)
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		md := o.bufs[0][i][:len(pd)]
		mult := o.mult[i]
		for j, th := range pd {
			g := c * gd[j]
			m := md[j]
			x := b1*m + a1*g
			var s T
			switch {
			case x > 0:
				s = 1
			case x < 0:
				s = -1
			default:
				s = x // ±0, or NaN passed through
			}
			ud[j] = mult * (s + wd*th)
			md[j] = b2*m + a2*g
		}
	}
}
