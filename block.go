package gen

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/genopt/gen/ad"
)

// GroupLine is a Line whose direction is split into k parameter groups,
// u = u₁ + … + u_k (for example one group per layer), each of which may move
// by its own step. probe.Line implements it after SetGroups.
type GroupLine interface {
	Line
	// Groups returns k.
	Groups() int
	// AtGroups returns f(θ − Σᵢ αᵢ·uᵢ) (len(alphas) = k); θ is restored.
	AtGroups(alphas []float64) float64
	// JetGroups returns g(0), −∇f·v and vᵀHv (or vᵀGv) along
	// v = Σᵢ wᵢ·uᵢ, exactly, by one jet sweep.
	JetGroups(w []float64, c ad.Curvature) (g0, d1, d2 float64)
}

// BlockConfig configures Block. The zero value is approximate per-group GeN
// with the Mean estimator's averages (γ = 0.9, a growing window), Φ = 4, and each group's
// rate moving by at most ×2 per update.
type BlockConfig struct {
	Limits
	// Exact measures slopes and curvatures with jets instead of probes.
	Exact bool
	// Curvature is ad.Hessian (default) or ad.GaussNewton, for Exact.
	Curvature ad.Curvature
	// Gamma is γ of the averages of s and C, their shortest window as in
	// ApproxConfig.Gamma (default 0.9). Must be in
	// [0, 1); NoSmoothing sets 0.
	Gamma       float64
	NoSmoothing bool
	// FixedWindow keeps the averages exponential with γ for the whole run
	// instead of a window that grows with it (ApproxConfig.FixedWindow).
	FixedWindow bool
	// Every is Φ (default 4; exact 1).
	Every int
	// Eager probes every one of the first Eager steps (ApproxConfig.Eager).
	Eager int
	// MaxChange is r: each group's rate stays within [ᾱ/r, r·ᾱ] of the
	// single rate ᾱ = 1ᵀs/1ᵀC1 of the same averages (default 2; negative:
	// no bound but LRMin and LRMax).
	MaxChange float64
	// LR0 and StartLR are the settings of the automatic start, which finds
	// one rate for all groups as Approx (or Exact) does before the first
	// per-group update.
	LR0, StartLR float64
}

// Block is per-group GeN: the direction is split into k groups (by
// default one per layer) and the loss is modelled as a quadratic in the k
// group step sizes,
//
//	g(α₁…α_k) = f(θ − Σᵢ αᵢ·uᵢ) ≈ f − Σᵢ αᵢ·sᵢ + ½·Σᵢⱼ αᵢ·αⱼ·Cᵢⱼ,
//	sᵢ = ∇f·uᵢ,  Cᵢⱼ = uᵢᵀ·H·uⱼ,
//
// whose minimizer solves C·α = s — one Newton step in the k-dimensional
// subspace spanned by the groups' directions (with k = 1 it is GeN's α*;
// Bu & Xu, arXiv:2407.02772, eq. (3.1)). When C is not positive definite
// the couplings are dropped (αᵢ = sᵢ/Cᵢᵢ, or the previous αᵢ where that is
// not positive). The rates are then projected into [ᾱ/r, r·ᾱ] around the
// single rate ᾱ = Σsᵢ / ΣCᵢⱼ that the same averages give for all groups
// together (the Mean estimator's rate): the greedy block minimizer often
// asks to stop or reverse a layer whose direction overlaps another's
// (measured on MNIST: the output layer's rate goes negative on the first
// probe), which helps the next step and starves that layer for good —
// the short-horizon bias in k dimensions.
//
// Exact: sᵢ and Cᵢᵢ from a jet along uᵢ, and Cᵢⱼ from a jet along uᵢ + uⱼ,
// whose curvature is Cᵢᵢ + 2Cᵢⱼ + Cⱼⱼ: k(k+1)/2 jets per update.
// Approximate: with aᵢ = a = ᾱ for every group (one probe size keeps the
// differences of every group above float rounding, whatever its rate), the
// losses at θ ± aᵢ·uᵢ give sᵢ and Cᵢᵢ as
// the three-point differences of Approx, and the loss at θ − aᵢuᵢ − aⱼuⱼ
// gives Cᵢⱼ; these 1 + 2k + k(k−1)/2 points determine the 1 + k +
// k(k+1)/2 coefficients of the quadratic exactly, so the estimate is exact
// on a quadratic. s and C are averaged over updates as in the Mean
// estimator (the bias of the averages cancels in C⁻¹s).
type Block struct {
	cfg       BlockConfig
	start     Rule      // the single-rate rule of the first update
	alpha     []float64 // the groups' rates; nil before the first update
	single    float64   // ᾱ, the single rate of the same averages
	estimated bool
	s, c      []float64 // averaged sᵢ and Cᵢⱼ (row-major k×k)
	w         float64   // total weight of the averages
	// scratch
	ds, dc, pt, lr []float64
	chol, x        []float64 // solve's Cholesky factor and solution
}

var _ Rule = (*Block)(nil)

// NewBlock returns a Block rule; it panics on inconsistent settings.
func NewBlock(cfg BlockConfig) *Block {
	cfg.check("Block")
	switch {
	case cfg.NoSmoothing:
		cfg.Gamma = 0
	case cfg.Gamma == 0:
		cfg.Gamma = 0.9
	}
	if cfg.Gamma < 0 || cfg.Gamma >= 1 {
		panic(fmt.Sprintf("gen: Block: Gamma %g outside [0, 1)", cfg.Gamma))
	}
	if cfg.Every <= 0 {
		cfg.Every = ApproxEvery
		if cfg.Exact {
			cfg.Every = 1
		}
	}
	if cfg.MaxChange == 0 {
		cfg.MaxChange = 2
	}
	if cfg.MaxChange > 0 && cfg.MaxChange <= 1 {
		panic(fmt.Sprintf("gen: Block: MaxChange %g must be > 1 (or negative for none)", cfg.MaxChange))
	}
	b := &Block{cfg: cfg}
	if cfg.Exact {
		b.start = NewExact(ExactConfig{Limits: cfg.Limits, Curvature: cfg.Curvature, NoSmoothing: true})
	} else {
		b.start = NewApprox(ApproxConfig{Limits: cfg.Limits, Estimator: Mean, LR0: cfg.LR0, StartLR: cfg.StartLR, Every: 1})
	}
	return b
}

// Name describes the rule.
func (b *Block) Name() string {
	kind := "gen"
	if b.cfg.Exact {
		kind = "gen-exact"
	}
	return fmt.Sprintf("%s per group(Φ=%d, γ=%g%s%s%s)", kind, b.cfg.Every, b.cfg.Gamma, windowNote(b.cfg.FixedWindow), eagerSuffix(b.cfg.Eager, b.cfg.Every), b.cfg.Horizon.suffix())
}

// Next implements Rule. The line must be a GroupLine (a plain Line counts
// as one group). Decision.GroupLR holds the groups' rates (valid until the
// next call) and LR their mean.
func (b *Block) Next(step int, line Line) Decision {
	gl, ok := line.(GroupLine)
	if !ok {
		gl = oneGroup{line}
	}
	k := gl.Groups()
	if b.alpha != nil && len(b.alpha) != k {
		panic(fmt.Sprintf("gen: Block: the line has %d groups, the rule's state %d", k, len(b.alpha)))
	}
	if lazy(step, b.cfg.Every, b.cfg.Eager) && b.alpha != nil {
		d := b.decision(step)
		d.Reason = Lazy
		return d
	}
	if b.alpha == nil {
		d := b.start.Next(0, line)
		if d.Reason.Failed() {
			d.Estimated = false
			return d // no rate to split yet: the next update starts again
		}
		b.alpha = make([]float64, k)
		for i := range b.alpha {
			b.alpha[i] = d.LR
		}
		b.single = d.LR
		b.s, b.c = make([]float64, k), make([]float64, k*k)
		b.ds, b.dc, b.pt = make([]float64, k), make([]float64, k*k), make([]float64, k)
	}
	why := b.measure(gl)
	if why == OK {
		g := probeGamma(b.cfg.Gamma, step, b.cfg.Every, b.cfg.Eager, b.cfg.FixedWindow)
		for i := range b.s {
			b.s[i] = g*b.s[i] + (1-g)*b.ds[i]
		}
		for i := range b.c {
			b.c[i] = g*b.c[i] + (1-g)*b.dc[i]
		}
		b.w = g*b.w + (1 - g)
		why = b.solve()
	}
	if why.Failed() {
		b.single, b.estimated = b.cfg.failRate(b.single, b.estimated, why, 0)
		for i, a := range b.alpha {
			b.alpha[i] = b.cfg.onFailure(a, why, 0)
		}
	} else {
		b.estimated = true
	}
	d := b.decision(step)
	d.Updated, d.Reason = true, why
	return d
}

// decision returns the current rates with the horizon and bounds applied.
func (b *Block) decision(step int) Decision {
	d := newDecision(0)
	h := b.cfg.Horizon.Factor(step)
	if len(b.lr) != len(b.alpha) {
		b.lr = make([]float64, len(b.alpha))
	}
	d.GroupLR = b.lr
	var sum float64
	for i, a := range b.alpha {
		d.GroupLR[i] = b.cfg.clamp(a * h)
		sum += d.GroupLR[i]
	}
	d.LR = sum / float64(len(b.alpha))
	d.Estimated = b.estimated
	return d
}

// measure fills ds and dc with this update's slopes and curvatures.
func (b *Block) measure(gl GroupLine) Reason {
	k := len(b.alpha)
	clear(b.pt)
	if b.cfg.Exact {
		for i := range k {
			b.pt[i] = 1
			_, d1, d2 := gl.JetGroups(b.pt, b.cfg.Curvature)
			b.pt[i] = 0
			b.ds[i], b.dc[i*k+i] = -d1, d2
		}
		for i := range k {
			for j := i + 1; j < k; j++ {
				b.pt[i], b.pt[j] = 1, 1
				_, _, d2 := gl.JetGroups(b.pt, b.cfg.Curvature)
				b.pt[i], b.pt[j] = 0, 0
				cij := (d2 - b.dc[i*k+i] - b.dc[j*k+j]) / 2
				b.dc[i*k+j], b.dc[j*k+i] = cij, cij
			}
		}
	} else {
		g0 := gl.At(0)
		a := b.single
		for i := range b.alpha {
			b.pt[i] = a
			fm := gl.AtGroups(b.pt)
			b.pt[i] = -a
			fp := gl.AtGroups(b.pt)
			b.pt[i] = 0
			b.ds[i] = (fp - fm) / (2 * a)
			b.dc[i*k+i] = (fp - 2*g0 + fm) / (a * a)
		}
		for i := range k {
			for j := i + 1; j < k; j++ {
				ai, aj := a, a
				b.pt[i], b.pt[j] = ai, aj
				gij := gl.AtGroups(b.pt)
				b.pt[i], b.pt[j] = 0, 0
				// g(aᵢeᵢ + aⱼeⱼ) = g0 − aᵢsᵢ − aⱼsⱼ + ½(aᵢ²Cᵢᵢ + 2aᵢaⱼCᵢⱼ + aⱼ²Cⱼⱼ)
				cij := (gij - g0 + ai*b.ds[i] + aj*b.ds[j] - ai*ai*b.dc[i*k+i]/2 - aj*aj*b.dc[j*k+j]/2) / (ai * aj)
				b.dc[i*k+j], b.dc[j*k+i] = cij, cij
			}
		}
	}
	if !finite(b.ds...) || !finite(b.dc...) {
		return NonFinite
	}
	return OK
}

// solve sets ᾱ = 1ᵀs/1ᵀC1 and the groups' rates: C⁻¹s when C is positive
// definite, sᵢ/Cᵢᵢ (or the previous rate) otherwise, each projected into
// [ᾱ/r, r·ᾱ] and the bounds. A failure (1ᵀs ≤ 0 or 1ᵀC1 ≤ 0) leaves the
// rates to the policy.
func (b *Block) solve() Reason {
	k := len(b.alpha)
	var ss, cc float64
	for i := range k {
		ss += b.s[i]
		for j := range k {
			cc += b.c[i*k+j]
		}
	}
	m := moments{s: ss, c: cc, w: b.w}
	single, why := m.rate()
	if why.Failed() {
		return why
	}
	b.single = b.cfg.clamp(single)
	if len(b.x) != k {
		b.chol, b.x = make([]float64, k*k), make([]float64, k)
	}
	x := b.x
	if !cholSolve(b.c, b.s, k, b.chol, x) {
		for i := range k {
			x[i] = b.s[i] / b.c[i*k+i]
			if !(x[i] > 0) || !finite(x[i]) {
				x[i] = b.alpha[i]
			}
		}
	}
	for i, v := range x {
		if r := b.cfg.MaxChange; r > 1 {
			v = min(max(v, b.single/r), r*b.single)
		}
		if !finite(v) || !(v > 0) {
			v = b.alpha[i]
		}
		b.alpha[i] = b.cfg.clamp(v)
	}
	return OK
}

// cholSolve solves A·x = y for a k×k row-major A by Cholesky, into x, with
// l (k×k) for the factor; it returns false when A is not (numerically)
// positive definite.
func cholSolve(a, y []float64, k int, l, x []float64) bool {
	for i := range k {
		for j := 0; j <= i; j++ {
			s := a[i*k+j]
			for p := range j {
				s -= l[i*k+p] * l[j*k+p]
			}
			if i == j {
				if !(s > 0) {
					return false
				}
				l[i*k+i] = math.Sqrt(s)
			} else {
				l[i*k+j] = s / l[j*k+j]
			}
		}
	}
	for i := range k { // L·z = y
		s := y[i]
		for p := range i {
			s -= l[i*k+p] * x[p]
		}
		x[i] = s / l[i*k+i]
	}
	for i := k - 1; i >= 0; i-- { // Lᵀ·x = z
		s := x[i]
		for p := i + 1; p < k; p++ {
			s -= l[p*k+i] * x[p]
		}
		x[i] = s / l[i*k+i]
	}
	return finite(x...)
}

// State implements Rule: the groups' rates alpha.i, the averages s.i and
// c.i.j with their weight, and the start rule's state.
func (b *Block) State() State {
	v := map[string]float64{"groups": float64(len(b.alpha)), "estimated": b2f(b.estimated), "weight": b.w, "single": b.single}
	k := len(b.alpha)
	for i, a := range b.alpha {
		v["alpha."+strconv.Itoa(i)] = a
		v["s."+strconv.Itoa(i)] = b.s[i]
		for j := range k {
			v["c."+strconv.Itoa(i)+"."+strconv.Itoa(j)] = b.c[i*k+j]
		}
	}
	for name, x := range b.start.State().Values {
		v["start."+name] = x
	}
	return State{Kind: "gen-block", Values: v}
}

// SetState implements Rule.
func (b *Block) SetState(s State) error {
	if err := checkKind(s, "gen-block"); err != nil {
		return err
	}
	kf := s.Values["groups"]
	if kf != math.Trunc(kf) || kf < 0 || kf > 1<<16 {
		return fmt.Errorf("gen: state has %v groups: the checkpoint is corrupted", kf)
	}
	k := int(kf)
	nb := &Block{cfg: b.cfg, start: b.start, estimated: s.Values["estimated"] == 1, w: s.Values["weight"], single: s.Values["single"]}
	if k > 0 {
		nb.alpha, nb.s, nb.c = make([]float64, k), make([]float64, k), make([]float64, k*k)
		nb.ds, nb.dc, nb.pt = make([]float64, k), make([]float64, k*k), make([]float64, k)
		for i := range k {
			var ok1, ok2 bool
			nb.alpha[i], ok1 = s.Values["alpha."+strconv.Itoa(i)]
			nb.s[i], ok2 = s.Values["s."+strconv.Itoa(i)]
			if !ok1 || !ok2 || !(nb.alpha[i] > 0) || !finite(nb.alpha[i], nb.s[i]) {
				return fmt.Errorf("gen: state of group %d is missing or invalid (alpha %v): the checkpoint is corrupted", i, nb.alpha[i])
			}
			for j := range k {
				nb.c[i*k+j] = s.Values["c."+strconv.Itoa(i)+"."+strconv.Itoa(j)]
			}
		}
	}
	if !finite(nb.c...) || !finite(nb.w, nb.single) || nb.w < 0 || nb.w > 1 || (k > 0 && !(nb.single > 0)) {
		return fmt.Errorf("gen: state has invalid averages: the checkpoint is corrupted")
	}
	st := State{Kind: b.start.State().Kind, Values: map[string]float64{}}
	for name, x := range s.Values {
		if n, ok := strings.CutPrefix(name, "start."); ok {
			st.Values[n] = x
		}
	}
	if err := b.start.SetState(st); err != nil {
		return err
	}
	*b = *nb
	return nil
}

// oneGroup makes a plain Line a GroupLine of one group.
type oneGroup struct{ Line }

func (oneGroup) Groups() int { return 1 }
func (o oneGroup) AtGroups(a []float64) float64 {
	return o.At(a[0])
}
func (o oneGroup) JetGroups(w []float64, c ad.Curvature) (g0, d1, d2 float64) {
	g0, d1, d2 = o.Jet(c)
	return g0, w[0] * d1, w[0] * w[0] * d2
}
