package optim

import (
	"fmt"
	"math"

	"github.com/genopt/gen/tensor"
)

// The learning-rate-free peers. Each of these optimizers estimates its own
// step size, so its direction u already includes it: run it with the
// constant α = 1 (θ ← θ − u). The published "lr" (default 1) is the LR field
// of its Config; a caller's α ≠ 1 would scale the steps without the
// optimizer's estimates knowing. Their scalar state (the distance estimate d
// and the sums behind it) is shared by all parameters and computed from the
// unscaled steps; group multipliers scale only the applied direction.

// growth resolves a growth-rate limit: 0 → +∞.
func growth(op string, v float64) float64 {
	if v == 0 {
		return math.Inf(1)
	}
	if !(v >= 1) {
		panic(fmt.Sprintf("optim: %s: GrowthRate = %v, want ≥ 1 (0 means unlimited)", op, v))
	}
	return v
}

// positive resolves a strictly positive setting with default def.
func positive(op, field string, v, def float64) float64 {
	p := setting(op, field, v, def)
	if p == 0 {
		panic(fmt.Sprintf("optim: %s: %s = Off, want a value > 0", op, field))
	}
	return p
}

// DAdaptAdamConfig configures DAdaptAdam. The zero value gives the defaults
// of the reference implementation (facebookresearch/dadaptation 3.x).
type DAdaptAdamConfig struct {
	Common // WeightDecay is coupled L2 unless Decouple is set.
	// LR is the multiplier of the adapted step. Default 1.
	LR float64
	// Beta1 is β₁ in [0, 1). Default 0.9; Off gives 0.
	Beta1 float64
	// Beta2 is β₂ in [0, 1). Default 0.999.
	Beta2 float64
	// Eps is ε > 0, added to √v. Default 1e-8.
	Eps float64
	// D0 is the initial distance estimate d₀ > 0. Default 1e-6.
	D0 float64
	// GrowthRate limits d's growth per step to this factor. Default 0: no limit.
	GrowthRate float64
	// Decouple makes WeightDecay AdamW-style: u ← u + λ·d·LR·θ.
	Decouple bool
	// BiasCorrection multiplies the step by √(1−β₂ᵏ)/(1−β₁ᵏ) (k counted from 1). Default off.
	BiasCorrection bool
}

// DAdaptAdam is Adam with D-Adaptation, Defazio & Mishchenko,
// "Learning-Rate-Free Learning by D-Adaptation", ICML 2023, Algorithm 4
// (Adam), in the form of the reference implementation dadapt_adam.py (3.x).
// With ĝ the (clipped, optionally decayed) gradient, k the number of steps
// taken, λ_k = d_k·LR·bc_k (bc_k = 1, or the bias correction above):
//
//	r  += λ_k·⟨ĝ, s/(√v + ε)⟩            (s and v before this step's update)
//	m  ← β₁·m + λ_k·(1−β₁)·ĝ
//	v  ← β₂·v + (1−β₂)·ĝ²
//	s  ← √β₂·s + λ_k·(1−√β₂)·ĝ
//	u  = m/(√v + ε) [+ λ·λ_k·θ when decoupled]
//	R  ← √β₂·R + (1−√β₂)·r
//	d̂ = R/((1−√β₂)·‖s‖₁),   d_{k+1} = max(d_k, min(d̂, d_k·GrowthRate))
//
// The new d takes effect on the next step. While ‖s‖₁ = 0 (all gradients
// so far zero) the step is skipped: u = 0 and k, R and d stay. Run with
// α = 1. State: buffers "m", "v", "s"; scalars "d", "numerator" (R) and "k".
type DAdaptAdam[T tensor.Float] struct {
	base[T]
	wd, lr, b1, b2, eps, gr float64
	decouple, bias          bool
}

var _ Optimizer[float32] = (*DAdaptAdam[float32])(nil)
var _ Optimizer[float64] = (*DAdaptAdam[float64])(nil)

const (
	daD = iota
	daNum
	daK
)

// NewDAdaptAdam returns a DAdaptAdam optimizer configured by cfg.
func NewDAdaptAdam[T tensor.Float](cfg DAdaptAdamConfig) *DAdaptAdam[T] {
	const op = "NewDAdaptAdam"
	o := &DAdaptAdam[T]{
		base:     newBase[T]("dadapt-adam", cfg.Common, "m", "v", "s"),
		wd:       setting(op, "WeightDecay", cfg.WeightDecay, 0),
		lr:       positive(op, "LR", cfg.LR, 1),
		b1:       beta(op, "Beta1", cfg.Beta1, 0.9),
		b2:       beta(op, "Beta2", cfg.Beta2, 0.999),
		eps:      positive(op, "Eps", cfg.Eps, 1e-8),
		gr:       growth(op, cfg.GrowthRate),
		decouple: cfg.Decouple,
		bias:     cfg.BiasCorrection,
	}
	o.withScalars([]string{"d", "numerator", "k"}, []float64{positive(op, "D0", cfg.D0, 1e-6), 0, 0})
	return o
}

// Name returns "dadapt-adam".
func (o *DAdaptAdam[T]) Name() string { return o.kind }

// State returns the step count, the buffers and the scalars d, numerator, k.
func (o *DAdaptAdam[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *DAdaptAdam[T]) SetState(s State) error { return o.setState(s) }

// D returns the current distance estimate d.
func (o *DAdaptAdam[T]) D() float64 { return o.scalar[daD] }

// Direction advances the moments and d and writes the direction.
func (o *DAdaptAdam[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	d, k := o.scalar[daD], o.scalar[daK]
	bc := 1.0
	if o.bias {
		bc = math.Sqrt(1-math.Pow(o.b2, k+1)) / (1 - math.Pow(o.b1, k+1))
	}
	dlr := d * o.lr * bc
	sb2 := math.Sqrt(o.b2)
	b1, b2, sqb2 := T(o.b1), T(o.b2), T(sb2)
	a1, a2, as := T(dlr*(1-o.b1)), T(1-o.b2), T(dlr*(1-sb2))
	eps := T(o.eps)
	var cwd, dwd T
	if o.decouple {
		dwd = T(o.wd * dlr)
	} else {
		cwd = T(o.wd)
	}
	var num, skL1 float64
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		md := o.bufs[0][i][:len(pd)]
		vd := o.bufs[1][i][:len(pd)]
		sd := o.bufs[2][i][:len(pd)]
		mult := o.mult[i]
		var numi, l1i float64
		for j, th := range pd {
			g := c*gd[j] + cwd*th
			v, s := vd[j], sd[j]
			numi += float64(g) * float64(s/(T(math.Sqrt(float64(v)))+eps))
			m := b1*md[j] + a1*g
			v = b2*v + a2*g*g
			s = sqb2*s + as*g
			md[j], vd[j], sd[j] = m, v, s
			l1i += math.Abs(float64(s))
			ud[j] = mult * (m/(T(math.Sqrt(float64(v)))+eps) + dwd*th)
		}
		num += numi
		skL1 += l1i
	}
	if skL1 == 0 {
		zeroAll(u)
		return
	}
	numW := sb2*o.scalar[daNum] + (1-sb2)*dlr*num
	dHat := numW / ((1 - sb2) * skL1)
	o.scalar[daNum] = numW
	o.scalar[daD] = math.Max(d, math.Min(dHat, d*o.gr))
	o.scalar[daK] = k + 1
}

func zeroAll[T tensor.Float](u []*tensor.Tensor[T]) {
	for _, t := range u {
		tensor.Zero(t)
	}
}

// DAdaptSGDConfig configures DAdaptSGD. The zero value gives the defaults of
// the reference implementation (facebookresearch/dadaptation 3.x).
type DAdaptSGDConfig struct {
	Common // WeightDecay is coupled L2: ĝ = g + λθ.
	// LR is the multiplier of the adapted step. Default 1.
	LR float64
	// Momentum is μ in [0, 1), applied as primal averaging. Default 0; Off gives 0.
	Momentum float64
	// D0 is the initial distance estimate d₀ > 0. Default 1e-6.
	D0 float64
	// GrowthRate limits d's growth per step to this factor. Default 0: no limit.
	GrowthRate float64
}

// DAdaptSGD is SGD with D-Adaptation, Defazio & Mishchenko,
// "Learning-Rate-Free Learning by D-Adaptation", ICML 2023, Algorithm 1 (dual
// averaging) with momentum by primal averaging, in the form of the reference
// implementation dadapt_sgd.py (3.x). With ĝ the gradient, ‖ĝ₀‖ the norm of
// the first one, λ_k = d_k·LR/‖ĝ₀‖, x₀ the parameters at the first call and
// c = 1 − μ:
//
//	r  += λ_k·⟨ĝ, s⟩           (s before this step's update)
//	s  ← s + λ_k·ĝ
//	z  = x₀ − s,   θ' = (1−c)·θ + c·z,   u = θ − θ' = c·(θ − x₀ + s)
//	d̂ = 2·r/‖s‖₂,   d_{k+1} = max(d_k, min(d̂, d_k·GrowthRate))
//
// While the first gradient is zero, or ‖s‖ = 0, the step is skipped: u = 0.
// Run with α = 1 so that θ follows the primal average. State: buffers "x0"
// and "s"; scalars "d", "numerator" (r), "g0_norm" and "k".
type DAdaptSGD[T tensor.Float] struct {
	base[T]
	wd, lr, mu, gr float64
}

var _ Optimizer[float32] = (*DAdaptSGD[float32])(nil)
var _ Optimizer[float64] = (*DAdaptSGD[float64])(nil)

const (
	dsD = iota
	dsNum
	dsG0
	dsK
)

// NewDAdaptSGD returns a DAdaptSGD optimizer configured by cfg.
func NewDAdaptSGD[T tensor.Float](cfg DAdaptSGDConfig) *DAdaptSGD[T] {
	const op = "NewDAdaptSGD"
	o := &DAdaptSGD[T]{
		base: newBase[T]("dadapt-sgd", cfg.Common, "x0", "s"),
		wd:   setting(op, "WeightDecay", cfg.WeightDecay, 0),
		lr:   positive(op, "LR", cfg.LR, 1),
		mu:   beta(op, "Momentum", cfg.Momentum, 0),
		gr:   growth(op, cfg.GrowthRate),
	}
	o.withScalars([]string{"d", "numerator", "g0_norm", "k"}, []float64{positive(op, "D0", cfg.D0, 1e-6), 0, 0, 0})
	return o
}

// Name returns "dadapt-sgd".
func (o *DAdaptSGD[T]) Name() string { return o.kind }

// State returns the step count, the buffers and the scalars.
func (o *DAdaptSGD[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *DAdaptSGD[T]) SetState(s State) error { return o.setState(s) }

// D returns the current distance estimate d.
func (o *DAdaptSGD[T]) D() float64 { return o.scalar[dsD] }

// Direction advances s and d and writes the direction.
func (o *DAdaptSGD[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd := T(o.wd)
	if o.scalar[dsK] == 0 {
		// First effective step: remember x₀ and measure ‖ĝ₀‖.
		var gsq float64
		for i, p := range params {
			pd := p.Data()
			gd := grads[i].Data()[:len(pd)]
			copy(o.bufs[0][i], pd)
			for j, th := range pd {
				g := float64(c*gd[j] + wd*th)
				gsq += g * g
			}
		}
		o.scalar[dsG0] = math.Sqrt(gsq)
		if gsq == 0 {
			zeroAll(u)
			return
		}
	}
	d := o.scalar[dsD]
	dlr := d * o.lr / o.scalar[dsG0]
	tdlr, ck := T(dlr), T(1-o.mu)
	var num, ssq float64
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		xd := o.bufs[0][i][:len(pd)]
		sd := o.bufs[1][i][:len(pd)]
		mult := o.mult[i]
		for j, th := range pd {
			g := c*gd[j] + wd*th
			s := sd[j]
			num += float64(g) * float64(s)
			s += tdlr * g
			sd[j] = s
			ssq += float64(s) * float64(s)
			ud[j] = mult * ck * (th - (xd[j] - s))
		}
	}
	if ssq == 0 {
		zeroAll(u)
		return
	}
	o.scalar[dsNum] += dlr * num
	dHat := 2 * o.scalar[dsNum] / math.Sqrt(ssq)
	o.scalar[dsD] = math.Max(d, math.Min(dHat, d*o.gr))
	o.scalar[dsK]++
}

// ProdigyConfig configures Prodigy. The zero value gives the defaults of the
// reference implementation (prodigyopt 1.x).
type ProdigyConfig struct {
	Common // WeightDecay is decoupled (u ← u + λ·λ_k·θ) unless Coupled is set. Default 0.
	// LR is the multiplier of the adapted step. Default 1.
	LR float64
	// Beta1 is β₁ in [0, 1). Default 0.9; Off gives 0.
	Beta1 float64
	// Beta2 is β₂ in [0, 1). Default 0.999.
	Beta2 float64
	// Beta3 is β₃ in [0, 1), the decay of the d-estimate sums. Default √β₂.
	Beta3 float64
	// Eps is ε > 0; the denominator is √v + d·ε. Default 1e-8.
	Eps float64
	// D0 is the initial distance estimate d₀ > 0. Default 1e-6.
	D0 float64
	// DCoef multiplies the estimate d̂. Default 1.
	DCoef float64
	// GrowthRate limits d's growth per step to this factor. Default 0: no limit.
	GrowthRate float64
	// Coupled makes WeightDecay coupled L2 (ĝ = g + λθ) instead of decoupled.
	Coupled bool
	// BiasCorrection multiplies the step by √(1−β₂ᵏ)/(1−β₁ᵏ). Default off.
	BiasCorrection bool
	// SafeguardWarmup leaves LR and the bias correction out of s's update.
	SafeguardWarmup bool
}

// Prodigy is Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive
// Parameter-Free Learner", ICML 2024 (arXiv:2306.06101), Algorithm 4 (Adam
// version), in the form of the reference implementation prodigy.py. With ĝ
// the gradient, x₀ the parameters at the first call, λ_k = d_k·LR·bc_k:
//
//	r  ← β₃·r + (d_k/d₀)·λ_k·⟨ĝ, x₀ − θ⟩
//	m  ← β₁·m + d_k·(1−β₁)·ĝ
//	v  ← β₂·v + d_k²·(1−β₂)·ĝ²
//	s  ← β₃·s + (d_k/d₀)·λ_k·ĝ
//	d̂ = DCoef·r/‖s‖₁
//	d_max ← max(d_max, d̂);  d_{k+1} = min(d_max, d_k·GrowthRate)
//	         (on the first growth from d₀: d_k ← max(d_k, d̂) first)
//	u  = λ_k·m/(√v + d_{k+1}·ε) [+ λ·λ_k·θ when decoupled]
//
// The direction uses the new d in its ε term, so it takes a second pass
// over the data. While ‖s‖₁ = 0 the step is skipped: u = 0. Run with α = 1.
// State: buffers "x0", "s", "m", "v"; scalars "d", "d_max", "numerator" (r), "k".
type Prodigy[T tensor.Float] struct {
	base[T]
	wd, lr, b1, b2, b3, eps, d0, coef, gr float64
	coupled, bias, safeguard              bool
}

var _ Optimizer[float32] = (*Prodigy[float32])(nil)
var _ Optimizer[float64] = (*Prodigy[float64])(nil)

const (
	prD = iota
	prDMax
	prNum
	prK
)

// NewProdigy returns a Prodigy optimizer configured by cfg.
func NewProdigy[T tensor.Float](cfg ProdigyConfig) *Prodigy[T] {
	const op = "NewProdigy"
	o := &Prodigy[T]{
		base:      newBase[T]("prodigy", cfg.Common, "x0", "s", "m", "v"),
		wd:        setting(op, "WeightDecay", cfg.WeightDecay, 0),
		lr:        positive(op, "LR", cfg.LR, 1),
		b1:        beta(op, "Beta1", cfg.Beta1, 0.9),
		b2:        beta(op, "Beta2", cfg.Beta2, 0.999),
		eps:       positive(op, "Eps", cfg.Eps, 1e-8),
		d0:        positive(op, "D0", cfg.D0, 1e-6),
		coef:      positive(op, "DCoef", cfg.DCoef, 1),
		gr:        growth(op, cfg.GrowthRate),
		coupled:   cfg.Coupled,
		bias:      cfg.BiasCorrection,
		safeguard: cfg.SafeguardWarmup,
	}
	o.b3 = beta(op, "Beta3", cfg.Beta3, math.Sqrt(o.b2))
	o.withScalars([]string{"d", "d_max", "numerator", "k"}, []float64{o.d0, o.d0, 0, 0})
	return o
}

// Name returns "prodigy".
func (o *Prodigy[T]) Name() string { return o.kind }

// State returns the step count, the buffers and the scalars.
func (o *Prodigy[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *Prodigy[T]) SetState(s State) error { return o.setState(s) }

// D returns the current distance estimate d.
func (o *Prodigy[T]) D() float64 { return o.scalar[prD] }

// Direction advances the moments and d and writes the direction.
func (o *Prodigy[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	if o.step == 1 {
		for i, p := range params {
			copy(o.bufs[0][i], p.Data())
		}
	}
	d, k := o.scalar[prD], o.scalar[prK]
	bc := 1.0
	if o.bias {
		bc = math.Sqrt(1-math.Pow(o.b2, k+1)) / (1 - math.Pow(o.b1, k+1))
	}
	dlr := d * o.lr * bc
	sScale := d / o.d0 * dlr
	if o.safeguard {
		sScale = d / o.d0 * d
	}
	var cwd T
	if o.coupled {
		cwd = T(o.wd)
	}
	b1, a1 := T(o.b1), T(d*(1-o.b1))
	b2, a2 := T(o.b2), T(d*d*(1-o.b2))
	b3, as := T(o.b3), T(sScale)
	var num, den float64
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		xd := o.bufs[0][i][:len(pd)]
		sd := o.bufs[1][i][:len(pd)]
		md := o.bufs[2][i][:len(pd)]
		vd := o.bufs[3][i][:len(pd)]
		var numi, deni float64
		for j, th := range pd {
			g := c*gd[j] + cwd*th
			numi += float64(g) * float64(xd[j]-th)
			md[j] = b1*md[j] + a1*g
			vd[j] = b2*vd[j] + a2*g*g
			s := b3*sd[j] + as*g
			sd[j] = s
			deni += math.Abs(float64(s))
		}
		num += numi
		den += deni
	}
	if den == 0 {
		zeroAll(u)
		return
	}
	r := o.b3*o.scalar[prNum] + d/o.d0*dlr*num
	dHat := o.coef * r / den
	if d == o.d0 {
		d = math.Max(d, dHat)
	}
	dMax := math.Max(o.scalar[prDMax], dHat)
	d = math.Min(dMax, d*o.gr)
	o.scalar[prNum], o.scalar[prDMax], o.scalar[prD], o.scalar[prK] = r, dMax, d, k+1

	tdlr, deps := T(dlr), T(d*o.eps)
	var dwd T
	if !o.coupled {
		dwd = T(o.wd * dlr)
	}
	for i, p := range params {
		pd := p.Data()
		ud := u[i].Data()[:len(pd)]
		md := o.bufs[2][i][:len(pd)]
		vd := o.bufs[3][i][:len(pd)]
		mult := o.mult[i]
		for j, th := range pd {
			ud[j] = mult * (tdlr*md[j]/(T(math.Sqrt(float64(vd[j])))+deps) + dwd*th)
		}
	}
}

// DoGConfig configures DoG. The zero value gives the defaults of Ivgi et al.
type DoGConfig struct {
	Common // WeightDecay is coupled L2: ĝ = g + λθ.
	// LR is c, the multiplier of the step size. Default 1.
	LR float64
	// RepsRel sets the initial distance r_ε = RepsRel·(1 + ‖x₀‖). Default
	// 1e-6 (the paper suggests 1e-4 for models with batch normalization).
	RepsRel float64
	// Eps is added to the first squared gradient norm. Default 1e-8.
	Eps float64
}

// DoG (Distance over Gradients) is Ivgi, Hinder & Carmon, "DoG is SGD's Best
// Friend: A Parameter-Free Dynamic Step Size Schedule", ICML 2023, eq. (1)
// (the global version, all parameters as one vector):
//
//	r̄_t = max(r_ε, max_{i≤t} ‖θ_i − θ₀‖),   r_ε = RepsRel·(1 + ‖θ₀‖)
//	G_t = ε + Σ_{i≤t} ‖ĝ_i‖²
//	η_t = LR·r̄_t/√G_t,   u = η_t·ĝ_t
//
// Each call takes two passes over the data (norms, then the direction). Run
// with α = 1. State: buffer "x0"; scalars "rbar" and "G" (both 0 before the
// first call).
type DoG[T tensor.Float] struct {
	base[T]
	wd, lr, reps, eps float64
}

var _ Optimizer[float32] = (*DoG[float32])(nil)
var _ Optimizer[float64] = (*DoG[float64])(nil)

// NewDoG returns a DoG optimizer configured by cfg.
func NewDoG[T tensor.Float](cfg DoGConfig) *DoG[T] {
	const op = "NewDoG"
	o := &DoG[T]{
		base: newBase[T]("dog", cfg.Common, "x0"),
		wd:   setting(op, "WeightDecay", cfg.WeightDecay, 0),
		lr:   positive(op, "LR", cfg.LR, 1),
		reps: positive(op, "RepsRel", cfg.RepsRel, 1e-6),
		eps:  setting(op, "Eps", cfg.Eps, 1e-8),
	}
	o.withScalars([]string{"rbar", "G"}, []float64{0, 0})
	return o
}

// Name returns "dog".
func (o *DoG[T]) Name() string { return o.kind }

// State returns the step count, θ₀ and the scalars rbar and G.
func (o *DoG[T]) State() State { return o.state() }

// SetState restores a state returned by State.
func (o *DoG[T]) SetState(s State) error { return o.setState(s) }

// Eta returns the step size η of the last Direction call (0 before the first).
func (o *DoG[T]) Eta() float64 {
	if o.scalar[1] == 0 {
		return 0
	}
	return o.lr * o.scalar[0] / math.Sqrt(o.scalar[1])
}

// Direction updates r̄ and G and writes u = η·ĝ.
func (o *DoG[T]) Direction(u, params, grads []*tensor.Tensor[T]) {
	c := o.begin(u, params, grads)
	wd := T(o.wd)
	first := o.step == 1
	var gsq, dsq float64
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		xd := o.bufs[0][i][:len(pd)]
		if first {
			copy(xd, pd)
		}
		for j, th := range pd {
			g := float64(c*gd[j] + wd*th)
			gsq += g * g
			// First call: ‖θ₀‖² for r_ε; later: ‖θ − θ₀‖².
			x := float64(th)
			if !first {
				x -= float64(xd[j])
			}
			dsq += x * x
		}
	}
	if first {
		o.scalar[0] = o.reps * (1 + math.Sqrt(dsq))
		o.scalar[1] = gsq + o.eps
	} else {
		o.scalar[0] = math.Max(o.scalar[0], math.Sqrt(dsq))
		o.scalar[1] += gsq
	}
	if !(o.scalar[1] > 0) {
		panic(fmt.Sprintf("optim: dog: Direction: the sum of squared gradient norms is %v; DoG needs it > 0 (set Eps > 0)", o.scalar[1]))
	}
	eta := T(o.Eta())
	for i, p := range params {
		pd := p.Data()
		gd := grads[i].Data()[:len(pd)]
		ud := u[i].Data()[:len(pd)]
		m := o.mult[i] * eta
		for j, th := range pd {
			ud[j] = m * (c*gd[j] + wd*th)
		}
	}
}
