package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/tensor"
)

// The oracles in this file are scalar float64 loops written directly from
// the published update equations (cited at each optimizer's doc comment),
// one coordinate at a time, sharing no code with the package. They are run
// on the quadratic
//
//	f(θ) = Σ_k a_k/2·θ_k² − b_k·θ_k,   ∇f = a⊙θ − b,
//
// over three coordinates split across two parameter tensors (shapes [2] and
// [1, 1]), with θ ← θ − α·u and a fixed α, so the direction feeds back into
// the next gradient.

var (
	quadA  = []float64{2, 0.5, 4}
	quadB  = []float64{1, -1, 0.5}
	theta0 = []float64{0.5, -1.5, 1.25}
)

const (
	quadAlpha = 0.1
	quadSteps = 5
	// tol64: the implementation evaluates the same formulas as the oracle
	// in a different order (for example m·(1/(1−β₁ᵗ)) instead of
	// m/(1−β₁ᵗ)); over five steps that leaves a few ulps.
	tol64 = 1e-12
	// tol32: a float32 run against the float64 oracle; float32's unit
	// roundoff is 6e-8, and five steps of a handful of operations each,
	// fed back through θ, stay well inside 1e-5 relative.
	tol32 = 1e-5
)

// oracle returns the direction at step t (from 1) given θ and the gradient
// (already clipped when the test clips), keeping its own state.
type oracle func(t int, theta, g []float64) []float64

func sgdOracle(wd float64) oracle {
	return func(t int, th, g []float64) []float64 {
		u := make([]float64, len(g))
		for k := range g {
			u[k] = g[k] + wd*th[k]
		}
		return u
	}
}

func momentumOracle(mu, damp, wd float64, nesterov bool) oracle {
	var b []float64
	return func(t int, th, g []float64) []float64 {
		u := make([]float64, len(g))
		if b == nil {
			b = make([]float64, len(g))
		}
		for k := range g {
			gk := g[k] + wd*th[k]
			if t == 1 {
				b[k] = gk // PyTorch: the buffer starts as the first gradient
			} else {
				b[k] = mu*b[k] + (1-damp)*gk
			}
			if nesterov {
				u[k] = gk + mu*b[k]
			} else {
				u[k] = b[k]
			}
		}
		return u
	}
}

// adamOracle follows Kingma & Ba 2015, Algorithm 1, with coupled decay wd;
// decoupled adds Loshchilov & Hutter 2019, Algorithm 2 line 12's λθ.
func adamOracle(b1, b2, eps, wd float64, decoupled bool) oracle {
	var m, v []float64
	return func(t int, th, g []float64) []float64 {
		if m == nil {
			m, v = make([]float64, len(g)), make([]float64, len(g))
		}
		u := make([]float64, len(g))
		for k := range g {
			gk := g[k]
			if !decoupled {
				gk += wd * th[k]
			}
			m[k] = b1*m[k] + (1-b1)*gk
			v[k] = b2*v[k] + (1-b2)*gk*gk
			mhat := m[k] / (1 - math.Pow(b1, float64(t)))
			vhat := v[k] / (1 - math.Pow(b2, float64(t)))
			u[k] = mhat / (math.Sqrt(vhat) + eps)
			if decoupled {
				u[k] += wd * th[k]
			}
		}
		return u
	}
}

func rmspropOracle(rho, eps, mu, wd float64, centered bool) oracle {
	var s, a, b []float64
	return func(t int, th, g []float64) []float64 {
		if s == nil {
			s, a, b = make([]float64, len(g)), make([]float64, len(g)), make([]float64, len(g))
		}
		u := make([]float64, len(g))
		for k := range g {
			gk := g[k] + wd*th[k]
			s[k] = rho*s[k] + (1-rho)*gk*gk
			den := s[k]
			if centered {
				a[k] = rho*a[k] + (1-rho)*gk
				den -= a[k] * a[k]
			}
			step := gk / (math.Sqrt(den) + eps)
			if mu > 0 {
				b[k] = mu*b[k] + step
				step = b[k]
			}
			u[k] = step
		}
		return u
	}
}

func adagradOracle(eps, s0, wd float64) oracle {
	var s []float64
	return func(t int, th, g []float64) []float64 {
		if s == nil {
			s = make([]float64, len(g))
			for k := range s {
				s[k] = s0
			}
		}
		u := make([]float64, len(g))
		for k := range g {
			gk := g[k] + wd*th[k]
			s[k] += gk * gk
			u[k] = gk / (math.Sqrt(s[k]) + eps)
		}
		return u
	}
}

func lionOracle(b1, b2, wd float64) oracle {
	var m []float64
	return func(t int, th, g []float64) []float64 {
		if m == nil {
			m = make([]float64, len(g))
		}
		u := make([]float64, len(g))
		for k := range g {
			c := b1*m[k] + (1-b1)*g[k]
			sign := 0.0
			if c > 0 {
				sign = 1
			} else if c < 0 {
				sign = -1
			}
			u[k] = sign + wd*th[k]
			m[k] = b2*m[k] + (1-b2)*g[k]
		}
		return u
	}
}

type trajCase struct {
	name   string
	make32 func() Optimizer[float32]
	make64 func() Optimizer[float64]
	oracle func() oracle
	clip   float64   // ClipNorm the optimizer was built with (0: none)
	mult   []float64 // per-coordinate group multiplier (nil: all 1)
}

// both builds the float32 and float64 constructors of one configuration.
func both[C any, O32 Optimizer[float32], O64 Optimizer[float64]](cfg C, n32 func(C) O32, n64 func(C) O64) (func() Optimizer[float32], func() Optimizer[float64]) {
	return func() Optimizer[float32] { return n32(cfg) }, func() Optimizer[float64] { return n64(cfg) }
}

func trajCases() []trajCase {
	var cs []trajCase
	add := func(name string, m32 func() Optimizer[float32], m64 func() Optimizer[float64], or func() oracle) {
		cs = append(cs, trajCase{name: name, make32: m32, make64: m64, oracle: or})
	}
	m32, m64 := both(SGDConfig{}, NewSGD[float32], NewSGD[float64])
	add("sgd", m32, m64, func() oracle { return sgdOracle(0) })
	m32, m64 = both(SGDConfig{Common: Common{WeightDecay: 0.1}}, NewSGD[float32], NewSGD[float64])
	add("sgd/decay", m32, m64, func() oracle { return sgdOracle(0.1) })
	m32, m64 = both(MomentumConfig{}, NewMomentum[float32], NewMomentum[float64])
	add("momentum", m32, m64, func() oracle { return momentumOracle(0.9, 0, 0, false) })
	m32, m64 = both(MomentumConfig{Momentum: 0.5, Dampening: 0.3, Common: Common{WeightDecay: 0.05}}, NewMomentum[float32], NewMomentum[float64])
	add("momentum/dampening+decay", m32, m64, func() oracle { return momentumOracle(0.5, 0.3, 0.05, false) })
	m32, m64 = both(MomentumConfig{Nesterov: true}, NewMomentum[float32], NewMomentum[float64])
	add("nesterov", m32, m64, func() oracle { return momentumOracle(0.9, 0, 0, true) })
	m32, m64 = both(AdamConfig{}, NewAdam[float32], NewAdam[float64])
	add("adam", m32, m64, func() oracle { return adamOracle(0.9, 0.999, 1e-8, 0, false) })
	m32, m64 = both(AdamConfig{Beta1: Off, Beta2: 0.9, Eps: 1e-3, Common: Common{WeightDecay: 0.1}}, NewAdam[float32], NewAdam[float64])
	add("adam/beta1=0+decay", m32, m64, func() oracle { return adamOracle(0, 0.9, 1e-3, 0.1, false) })
	m32, m64 = both(AdamWConfig{}, NewAdamW[float32], NewAdamW[float64])
	add("adamw", m32, m64, func() oracle { return adamOracle(0.9, 0.999, 1e-8, 0.01, true) })
	m32, m64 = both(AdamWConfig{Common: Common{WeightDecay: 0.3}, Beta1: 0.8}, NewAdamW[float32], NewAdamW[float64])
	add("adamw/decay=0.3", m32, m64, func() oracle { return adamOracle(0.8, 0.999, 1e-8, 0.3, true) })
	m32, m64 = both(AdamWConfig{Common: Common{WeightDecay: Off}}, NewAdamW[float32], NewAdamW[float64])
	add("adamw/decay=off", m32, m64, func() oracle { return adamOracle(0.9, 0.999, 1e-8, 0, true) })
	m32, m64 = both(RMSPropConfig{}, NewRMSProp[float32], NewRMSProp[float64])
	add("rmsprop", m32, m64, func() oracle { return rmspropOracle(0.99, 1e-8, 0, 0, false) })
	m32, m64 = both(RMSPropConfig{Alpha: 0.9, Momentum: 0.5, Centered: true, Common: Common{WeightDecay: 0.1}}, NewRMSProp[float32], NewRMSProp[float64])
	add("rmsprop/centered+momentum+decay", m32, m64, func() oracle { return rmspropOracle(0.9, 1e-8, 0.5, 0.1, true) })
	m32, m64 = both(AdagradConfig{}, NewAdagrad[float32], NewAdagrad[float64])
	add("adagrad", m32, m64, func() oracle { return adagradOracle(1e-10, 0, 0) })
	m32, m64 = both(AdagradConfig{InitialAccumulator: 0.1, Common: Common{WeightDecay: 0.2}}, NewAdagrad[float32], NewAdagrad[float64])
	add("adagrad/s0+decay", m32, m64, func() oracle { return adagradOracle(1e-10, 0.1, 0.2) })
	m32, m64 = both(LionConfig{}, NewLion[float32], NewLion[float64])
	add("lion", m32, m64, func() oracle { return lionOracle(0.9, 0.99, 0) })
	m32, m64 = both(LionConfig{Beta1: 0.5, Beta2: 0.9, Common: Common{WeightDecay: 0.2}}, NewLion[float32], NewLion[float64])
	add("lion/decay", m32, m64, func() oracle { return lionOracle(0.5, 0.9, 0.2) })

	// Clipping and groups: parameter 0 (coordinates 0 and 1) in a group
	// with multiplier 0.5, parameter 1 (coordinate 2) left at 1.
	common := Common{ClipNorm: 0.7, Groups: []Group{{Params: []int{0}, Scale: 0.5}}}
	m32, m64 = both(AdamConfig{Common: common}, NewAdam[float32], NewAdam[float64])
	cs = append(cs, trajCase{name: "adam/clip+groups", make32: m32, make64: m64, clip: 0.7, mult: []float64{0.5, 0.5, 1},
		oracle: func() oracle { return adamOracle(0.9, 0.999, 1e-8, 0, false) }})
	m32, m64 = both(MomentumConfig{Common: common, Nesterov: true}, NewMomentum[float32], NewMomentum[float64])
	cs = append(cs, trajCase{name: "nesterov/clip+groups", make32: m32, make64: m64, clip: 0.7, mult: []float64{0.5, 0.5, 1},
		oracle: func() oracle { return momentumOracle(0.9, 0, 0, true) }})
	return cs
}

// oracleTrajectory runs the oracle on the quadratic and returns the
// directions of every step.
func oracleTrajectory(c trajCase) [][]float64 { return oracleTrajectoryAlpha(c, quadAlpha) }

// oracleTrajectoryAlpha is oracleTrajectory with the step size alpha.
func oracleTrajectoryAlpha(c trajCase, alpha float64) [][]float64 {
	or := c.oracle()
	th := slices.Clone(theta0)
	var us [][]float64
	for t := 1; t <= quadSteps; t++ {
		g := make([]float64, len(th))
		var ss float64
		for k := range th {
			g[k] = quadA[k]*th[k] - quadB[k]
			ss += g[k] * g[k]
		}
		if c.clip > 0 && math.Sqrt(ss) > c.clip {
			for k := range g {
				g[k] *= c.clip / math.Sqrt(ss)
			}
		}
		u := or(t, th, g)
		for k := range u {
			if c.mult != nil {
				u[k] *= c.mult[k]
			}
			th[k] -= alpha * u[k]
		}
		us = append(us, u)
	}
	return us
}

// quadTensors splits the three coordinates into tensors of shapes [2] and [1, 1].
func quadTensors[T tensor.Float](x []float64) []*tensor.Tensor[T] {
	return []*tensor.Tensor[T]{
		tensor.FromSlice([]T{T(x[0]), T(x[1])}, 2),
		tensor.FromSlice([]T{T(x[2])}, 1, 1),
	}
}

// copyInto writes the flat values x into the tensors ts in order.
func copyInto[T tensor.Float](ts []*tensor.Tensor[T], x []float64) {
	k := 0
	for _, t := range ts {
		for j := range t.Data() {
			t.Data()[j] = T(x[k])
			k++
		}
	}
}

func flat[T tensor.Float](ts []*tensor.Tensor[T]) []float64 {
	var out []float64
	for _, t := range ts {
		for _, v := range t.Data() {
			out = append(out, float64(v))
		}
	}
	return out
}

// optimizerTrajectory runs o on the quadratic in T.
func optimizerTrajectory[T tensor.Float](o Optimizer[T]) [][]float64 {
	return optimizerTrajectoryAlpha(o, quadAlpha)
}

// optimizerTrajectoryAlpha is optimizerTrajectory with the step size alpha.
func optimizerTrajectoryAlpha[T tensor.Float](o Optimizer[T], alpha float64) [][]float64 {
	params := quadTensors[T](theta0)
	grads := quadTensors[T]([]float64{0, 0, 0})
	u := quadTensors[T]([]float64{0, 0, 0})
	var us [][]float64
	for range quadSteps {
		th := flat(params)
		g := make([]float64, len(th))
		for k := range th {
			g[k] = float64(T(quadA[k])*T(th[k]) - T(quadB[k]))
		}
		copyInto(grads, g)
		o.Direction(u, params, grads)
		for i := range params {
			tensor.Axpy(params[i], -T(alpha), u[i])
		}
		us = append(us, flat(u))
	}
	return us
}

func checkTrajectory(t *testing.T, label string, got, want [][]float64, tol float64) {
	t.Helper()
	for s := range want {
		for k := range want[s] {
			g, w := got[s][k], want[s][k]
			if math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) {
				t.Errorf("%s: step %d, coordinate %d: u = %.17g, want %.17g (tolerance %g)", label, s+1, k, g, w, tol)
			}
		}
	}
}

func TestTrajectoryAgainstPublishedEquations(t *testing.T) {
	for _, c := range trajCases() {
		t.Run(c.name, func(t *testing.T) {
			want := oracleTrajectory(c)
			checkTrajectory(t, "float64", optimizerTrajectory(c.make64()), want, tol64)
			checkTrajectory(t, "float32", optimizerTrajectory(c.make32()), want, tol32)
		})
	}
}

// TestConstantGradientClosedForms checks literal closed forms for a constant
// gradient g (θ fixed, no decay), where the recursions sum to geometric series:
//
//	momentum: b_t = g·(1−μᵗ)/(1−μ)
//	adam:     m̂ = g, v̂ = g², u = g/(|g| + ε)
//	rmsprop:  s_t = (1−ρᵗ)·g², u = g/(√(1−ρᵗ)·|g| + ε)
//	adagrad:  s_t = t·g², u = g/(√t·|g| + ε)
//	lion:     u = sign(g)
func TestConstantGradientClosedForms(t *testing.T) {
	g := []float64{0.3, -2, 0}
	cases := []struct {
		name string
		o    Optimizer[float64]
		want func(t int, g float64) float64
	}{
		{"sgd", NewSGD[float64](SGDConfig{}), func(t int, g float64) float64 { return g }},
		{"momentum", NewMomentum[float64](MomentumConfig{Momentum: 0.5}), func(t int, g float64) float64 {
			return g * (1 - math.Pow(0.5, float64(t))) / 0.5
		}},
		{"nesterov", NewMomentum[float64](MomentumConfig{Momentum: 0.5, Nesterov: true}), func(t int, g float64) float64 {
			return g + 0.5*g*(1-math.Pow(0.5, float64(t)))/0.5
		}},
		{"adam", NewAdam[float64](AdamConfig{Eps: 0.01}), func(t int, g float64) float64 { return g / (math.Abs(g) + 0.01) }},
		{"adamw", NewAdamW[float64](AdamWConfig{Eps: 0.01, Common: Common{WeightDecay: Off}}), func(t int, g float64) float64 { return g / (math.Abs(g) + 0.01) }},
		{"rmsprop", NewRMSProp[float64](RMSPropConfig{Alpha: 0.5, Eps: 0.01}), func(t int, g float64) float64 {
			return g / (math.Sqrt(1-math.Pow(0.5, float64(t)))*math.Abs(g) + 0.01)
		}},
		{"adagrad", NewAdagrad[float64](AdagradConfig{Eps: 0.01}), func(t int, g float64) float64 {
			return g / (math.Sqrt(float64(t))*math.Abs(g) + 0.01)
		}},
		{"lion", NewLion[float64](LionConfig{}), func(t int, g float64) float64 { return math.Copysign(1, g) * float64(btoi(g != 0)) }},
	}
	const tol = 1e-14 // a few roundings of O(1) numbers
	for _, c := range cases {
		params := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{1, 2, 3}, 3)}
		grads := []*tensor.Tensor[float64]{tensor.FromSlice(slices.Clone(g), 3)}
		u := []*tensor.Tensor[float64]{tensor.New[float64](3)}
		for step := 1; step <= 4; step++ {
			c.o.Direction(u, params, grads)
			for k, gk := range g {
				if got, want := u[0].Data()[k], c.want(step, gk); math.Abs(got-want) > tol {
					t.Errorf("%s: step %d, g = %v: u = %.17g, want %.17g", c.name, step, gk, got, want)
				}
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestClipping(t *testing.T) {
	cases := []struct {
		clip float64
		g    []float64
		want []float64
	}{
		{1, []float64{3, 4}, []float64{0.6, 0.8}},   // ‖g‖ = 5 → scaled by 1/5
		{10, []float64{3, 4}, []float64{3, 4}},      // below the limit: unchanged
		{5, []float64{3, 4}, []float64{3, 4}},       // at the limit: unchanged
		{2, []float64{0, 0}, []float64{0, 0}},       // zero gradient stays zero
		{0, []float64{30, 40}, []float64{30, 40}},   // 0: no clipping
		{Off, []float64{30, 40}, []float64{30, 40}}, // Off: no clipping
	}
	for _, c := range cases {
		o := NewSGD[float64](SGDConfig{Common: Common{ClipNorm: c.clip}})
		// Split across two tensors: the norm is global.
		params := []*tensor.Tensor[float64]{tensor.New[float64](1), tensor.New[float64](1)}
		grads := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{c.g[0]}, 1), tensor.FromSlice([]float64{c.g[1]}, 1)}
		u := []*tensor.Tensor[float64]{tensor.New[float64](1), tensor.New[float64](1)}
		o.Direction(u, params, grads)
		got := flat(u)
		for k := range got {
			if math.Abs(got[k]-c.want[k]) > 1e-15 {
				t.Errorf("ClipNorm %v, g = %v: u = %v, want %v", c.clip, c.g, got, c.want)
				break
			}
		}
		if grads[0].Data()[0] != c.g[0] || grads[1].Data()[0] != c.g[1] {
			t.Errorf("ClipNorm %v: the caller's gradient changed to %v", c.clip, flat(grads))
		}
	}
}

func TestGroups(t *testing.T) {
	o := NewSGD[float64](SGDConfig{Common: Common{Groups: []Group{{Params: []int{2, 0}, Scale: 0.25}, {Params: []int{1}, Scale: 0}}}})
	params := []*tensor.Tensor[float64]{tensor.New[float64](2), tensor.New[float64](1), tensor.New[float64](1), tensor.New[float64](1)}
	grads := []*tensor.Tensor[float64]{tensor.FromSlice([]float64{4, -8}, 2), tensor.FromSlice([]float64{5}, 1), tensor.FromSlice([]float64{2}, 1), tensor.FromSlice([]float64{3}, 1)}
	u := []*tensor.Tensor[float64]{tensor.New[float64](2), tensor.New[float64](1), tensor.New[float64](1), tensor.New[float64](1)}
	o.Direction(u, params, grads)
	// Parameters 0 and 2 × 0.25, parameter 1 frozen, parameter 3 in no group × 1.
	want := []float64{1, -2, 0, 0.5, 3}
	if got := flat(u); !slices.Equal(got, want) {
		t.Errorf("u = %v, want %v", got, want)
	}
}

func TestGroupMisusePanics(t *testing.T) {
	cases := []struct {
		name   string
		groups []Group
		want   string
	}{
		{"out of range", []Group{{Params: []int{3}, Scale: 1}}, "names parameter 3"},
		{"negative index", []Group{{Params: []int{-1}, Scale: 1}}, "names parameter -1"},
		{"twice", []Group{{Params: []int{0}, Scale: 1}, {Params: []int{0}, Scale: 2}}, "more than once"},
		{"twice in one group", []Group{{Params: []int{1, 1}, Scale: 1}}, "more than once"},
	}
	for _, c := range cases {
		msg := panicMessage(func() {
			o := NewSGD[float64](SGDConfig{Common: Common{Groups: c.groups}})
			p := []*tensor.Tensor[float64]{tensor.New[float64](1), tensor.New[float64](1)}
			g := []*tensor.Tensor[float64]{tensor.New[float64](1), tensor.New[float64](1)}
			u := []*tensor.Tensor[float64]{tensor.New[float64](1), tensor.New[float64](1)}
			o.Direction(u, p, g)
		})
		if !strings.HasPrefix(msg, "optim: ") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q, want an optim: panic containing %q", c.name, msg, c.want)
		}
	}
	if msg := panicMessage(func() { NewSGD[float32](SGDConfig{Common: Common{Groups: []Group{{Scale: -1}}}}) }); !strings.Contains(msg, "Scale") {
		t.Errorf("negative group scale: panic %q, want one naming Scale", msg)
	}
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestDirectionMisusePanics(t *testing.T) {
	mk := func(shapes ...[]int) []*tensor.Tensor[float32] {
		var ts []*tensor.Tensor[float32]
		for _, s := range shapes {
			ts = append(ts, tensor.New[float32](s...))
		}
		return ts
	}
	p := mk([]int{2, 3}, []int{3})
	cases := []struct {
		name string
		run  func(o Optimizer[float32])
		want string
	}{
		{"count", func(o Optimizer[float32]) { o.Direction(mk([]int{2, 3}), p, mk([]int{2, 3}, []int{3})) }, "equal counts"},
		{"grad shape", func(o Optimizer[float32]) { o.Direction(mk([]int{2, 3}, []int{3}), p, mk([]int{3, 2}, []int{3})) }, "shapes"},
		{"u aliases grad", func(o Optimizer[float32]) { g := mk([]int{2, 3}, []int{3}); o.Direction(g, p, g) }, "aliases"},
		{"u aliases param", func(o Optimizer[float32]) { o.Direction(p, p, mk([]int{2, 3}, []int{3})) }, "aliases"},
		{"new shapes later", func(o Optimizer[float32]) {
			o.Direction(mk([]int{2, 3}, []int{3}), p, mk([]int{2, 3}, []int{3}))
			o.Direction(mk([]int{6}, []int{3}), mk([]int{6}, []int{3}), mk([]int{6}, []int{3}))
		}, "state has [2 3]"},
	}
	for _, name := range append(Names(), PeerNames()...) {
		for _, c := range cases {
			o, err := New[float32](name, Common{})
			if err != nil {
				t.Fatal(err)
			}
			if msg := panicMessage(func() { c.run(o) }); !strings.HasPrefix(msg, "optim: "+name) || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %s: panic %q, want one starting %q and containing %q", name, c.name, msg, "optim: "+name, c.want)
			}
		}
	}
}

func TestConfigMisusePanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"adam beta1 = 1", func() { NewAdam[float32](AdamConfig{Beta1: 1}) }, "Beta1"},
		{"adam beta2 negative", func() { NewAdam[float32](AdamConfig{Beta2: -0.5}) }, "Beta2"},
		{"adam eps off", func() { NewAdam[float32](AdamConfig{Eps: Off}) }, "Eps"},
		{"adamw eps NaN", func() { NewAdamW[float32](AdamWConfig{Eps: math.NaN()}) }, "Eps"},
		{"momentum 1.5", func() { NewMomentum[float32](MomentumConfig{Momentum: 1.5}) }, "Momentum"},
		{"dampening 2", func() { NewMomentum[float32](MomentumConfig{Dampening: 2}) }, "Dampening"},
		{"rmsprop alpha", func() { NewRMSProp[float32](RMSPropConfig{Alpha: 1}) }, "Alpha"},
		{"adagrad eps", func() { NewAdagrad[float32](AdagradConfig{Eps: -3}) }, "Eps"},
		{"lion beta2", func() { NewLion[float32](LionConfig{Beta2: math.Inf(1)}) }, "Beta2"},
		{"clip", func() { NewSGD[float32](SGDConfig{Common: Common{ClipNorm: -2}}) }, "ClipNorm"},
		{"decay", func() { NewSGD[float32](SGDConfig{Common: Common{WeightDecay: -0.1}}) }, "WeightDecay"},
	}
	for _, c := range cases {
		if msg := panicMessage(c.f); !strings.HasPrefix(msg, "optim: ") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q, want an optim: panic naming %s", c.name, msg, c.want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, name := range append(Names(), PeerNames()...) {
		o, err := New[float64](name, Common{})
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if o.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, o.Name())
		}
	}
	_, err := New[float32]("adamax", Common{})
	if err == nil || !strings.Contains(err.Error(), "adamax") || !strings.Contains(err.Error(), "sgd|momentum|nesterov|adam|adamw|rmsprop|adagrad|lion") ||
		!strings.Contains(err.Error(), "dadapt-adam|dadapt-sgd|prodigy|dog") {
		t.Errorf("New(adamax): error %v, want one naming adamax and listing the valid names", err)
	}
}

// allConfigs returns one optimizer per kind and option set exercised by the
// state and allocation tests, with clipping, groups and decay switched on.
func allConfigs[T tensor.Float]() []Optimizer[T] {
	c := Common{WeightDecay: 0.01, ClipNorm: 1, Groups: []Group{{Params: []int{1}, Scale: 0.5}}}
	os := []Optimizer[T]{
		NewRMSProp[T](RMSPropConfig{Common: c, Momentum: 0.9, Centered: true}),
		NewAdagrad[T](AdagradConfig{Common: c, InitialAccumulator: 0.1}),
	}
	for _, name := range append(Names(), PeerNames()...) {
		o, err := New[T](name, c)
		if err != nil {
			panic(err)
		}
		os = append(os, o)
	}
	return os
}

// problem is a deterministic stream of parameters and gradients for
// parameters of shapes [3, 4] and [5].
type problem[T tensor.Float] struct {
	params, grads, u []*tensor.Tensor[T]
	rng              *rand.Rand
}

func newProblem[T tensor.Float](seed uint64) *problem[T] {
	p := &problem[T]{rng: rand.New(rand.NewPCG(seed, 1))}
	for _, s := range [][]int{{3, 4}, {5}} {
		p.params = append(p.params, tensor.New[T](s...))
		p.grads = append(p.grads, tensor.New[T](s...))
		p.u = append(p.u, tensor.New[T](s...))
	}
	for _, t := range p.params {
		for j := range t.Data() {
			t.Data()[j] = T(p.rng.NormFloat64())
		}
	}
	return p
}

// step draws a gradient θ + noise, calls Direction and applies θ ← θ − 0.05·u.
// It returns a copy of u.
func (p *problem[T]) step(o Optimizer[T]) []float64 {
	for i, g := range p.grads {
		for j := range g.Data() {
			g.Data()[j] = p.params[i].Data()[j] + T(0.3*p.rng.NormFloat64())
		}
	}
	o.Direction(p.u, p.params, p.grads)
	for i := range p.params {
		tensor.Axpy(p.params[i], -0.05, p.u[i])
	}
	return flat(p.u)
}

func testStateRoundTrip[T tensor.Float](t *testing.T) {
	fresh := allConfigs[T]()
	for k, o := range allConfigs[T]() {
		p := newProblem[T](7)
		for range 3 {
			p.step(o)
		}
		js, err := json.Marshal(o.State())
		if err != nil {
			t.Fatalf("%s: marshal: %v", o.Name(), err)
		}
		var s State
		if err := json.Unmarshal(js, &s); err != nil {
			t.Fatalf("%s: unmarshal: %v", o.Name(), err)
		}
		r := fresh[k]
		if err := r.SetState(s); err != nil {
			t.Fatalf("%s: SetState: %v", o.Name(), err)
		}
		if s.Step != 3 {
			t.Errorf("%s: saved step %d, want 3", o.Name(), s.Step)
		}
		// Continue both from the same θ and gradient stream.
		q := &problem[T]{params: cloneAll(p.params), grads: cloneAll(p.grads), u: cloneAll(p.u)}
		q.rng = rand.New(rand.NewPCG(99, 2))
		p.rng = rand.New(rand.NewPCG(99, 2))
		for s := range 3 {
			want, got := p.step(o), q.step(r)
			for j := range want {
				if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
					t.Fatalf("%s: step %d after restore, element %d: %v, uninterrupted %v", o.Name(), 4+s, j, got[j], want[j])
				}
			}
		}
	}
}

func cloneAll[T tensor.Float](ts []*tensor.Tensor[T]) []*tensor.Tensor[T] {
	out := make([]*tensor.Tensor[T], len(ts))
	for i, t := range ts {
		out[i] = t.Clone()
	}
	return out
}

func TestStateRoundTrip(t *testing.T) {
	t.Run("float32", testStateRoundTrip[float32])
	t.Run("float64", testStateRoundTrip[float64])
}

// TestStateBeforeFirstStep: a state saved before any Direction call restores
// to an optimizer that behaves as new, even one that had already stepped.
func TestStateBeforeFirstStep(t *testing.T) {
	s := NewAdam[float64](AdamConfig{}).State()
	used := NewAdam[float64](AdamConfig{})
	p := newProblem[float64](3)
	p.step(used)
	if err := used.SetState(s); err != nil {
		t.Fatal(err)
	}
	a, b := newProblem[float64](5), newProblem[float64](5)
	ref := NewAdam[float64](AdamConfig{})
	for range 2 {
		if got, want := a.step(used), b.step(ref); !slices.Equal(got, want) {
			t.Fatalf("after restoring a step-0 state: u = %v, fresh optimizer %v", got, want)
		}
	}
}

func TestSetStateErrors(t *testing.T) {
	saved := func() State {
		o := NewAdam[float32](AdamConfig{})
		newProblem[float32](1).step(o)
		return o.State()
	}
	cases := []struct {
		name   string
		into   func() Optimizer[float32]
		mutate func(*State)
		want   string
	}{
		{"kind", func() Optimizer[float32] { return NewAdamW[float32](AdamWConfig{}) }, func(*State) {}, `"adam", not "adamw"`},
		{"shape in a used optimizer", func() Optimizer[float32] {
			o := NewAdam[float32](AdamConfig{})
			p := []*tensor.Tensor[float32]{tensor.New[float32](4, 3), tensor.New[float32](5)}
			o.Direction(cloneAll(p), p, cloneAll(p))
			return o
		}, func(*State) {}, "parameter 0 has shape [3 4] in the state, [4 3] in the optimizer"},
		{"count in a used optimizer", func() Optimizer[float32] {
			o := NewAdam[float32](AdamConfig{})
			p := []*tensor.Tensor[float32]{tensor.New[float32](3, 4)}
			o.Direction(cloneAll(p), p, cloneAll(p))
			return o
		}, func(*State) {}, "state has 2 parameters, the optimizer has 1"},
		{"buffer length", nil, func(s *State) { s.Buffers["v"][1] = s.Buffers["v"][1][:4] }, `buffer "v", parameter 1: 4 elements, shape [5] needs 5`},
		{"shape vs buffer", nil, func(s *State) { s.Shapes[0] = []int{2, 4} }, `buffer "m", parameter 0: 12 elements, shape [2 4] needs 8`},
		{"missing buffer", nil, func(s *State) { delete(s.Buffers, "m"); s.Buffers["mu"] = nil }, `lacks buffer "m"`},
		{"extra buffer", nil, func(s *State) { s.Buffers["w"] = nil }, "want [m v]"},
		{"extra scalar", nil, func(s *State) { s.Scalars = map[string]float64{"d": 1} }, "scalars [d]"},
		{"negative step", nil, func(s *State) { s.Step = -1 }, "negative"},
		{"no shapes", nil, func(s *State) { s.Shapes = nil }, "no parameter shapes"},
	}
	for _, c := range cases {
		s := saved()
		c.mutate(&s)
		into := c.into
		if into == nil {
			into = func() Optimizer[float32] { return NewAdam[float32](AdamConfig{}) }
		}
		o := into()
		before := o.State()
		err := o.SetState(s)
		if err == nil || !strings.HasPrefix(err.Error(), "optim: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if after := o.State(); !stateEqual(before, after) {
			t.Errorf("%s: a failed SetState changed the state", c.name)
		}
	}
}

func stateEqual(a, b State) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestStateIsACopy: the State shares no memory with the optimizer.
func TestStateIsACopy(t *testing.T) {
	o := NewAdam[float64](AdamConfig{})
	p := newProblem[float64](1)
	p.step(o)
	s := o.State()
	want, _ := json.Marshal(s)
	p.step(o)
	if got, _ := json.Marshal(s); string(got) != string(want) {
		t.Error("a later Direction call changed a State returned earlier")
	}
	s.Buffers["m"][0][0] = 1e9
	s.Shapes[0][0] = 7
	if o.State().Buffers["m"][0][0] == 1e9 || o.State().Shapes[0][0] == 7 {
		t.Error("writing to a State changed the optimizer")
	}
}

func TestDirectionLeavesInputsAlone(t *testing.T) {
	for _, o := range allConfigs[float32]() {
		p := newProblem[float32](11)
		for range 3 {
			for _, g := range p.grads {
				for j := range g.Data() {
					g.Data()[j] = float32(10 * p.rng.NormFloat64()) // large: clipping is active
				}
			}
			ps, gs := cloneAll(p.params), cloneAll(p.grads)
			o.Direction(p.u, p.params, p.grads)
			for i := range ps {
				if !bitsEqual(ps[i].Data(), p.params[i].Data()) || !bitsEqual(gs[i].Data(), p.grads[i].Data()) {
					t.Fatalf("%s: Direction modified parameter or gradient %d", o.Name(), i)
				}
			}
		}
	}
}

func bitsEqual(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestNoAllocationAfterFirstCall(t *testing.T) {
	for _, o := range allConfigs[float32]() {
		p := newProblem[float32](2)
		o.Direction(p.u, p.params, p.grads)
		if n := testing.AllocsPerRun(20, func() { o.Direction(p.u, p.params, p.grads) }); n != 0 {
			t.Errorf("%s: %v allocations per Direction call after the first, want 0", o.Name(), n)
		}
	}
}
