package gen_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen"
	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/optim"
	"github.com/genopt/gen/probe"
	"github.com/genopt/gen/tensor"
)

// quadratic is the line of f(θ) = ½·Σ a_i θ_i² along u = ∇f, in closed
// form: g(α) = ½·Σ a_i (θ_i − α·a_i θ_i)².
type quadratic struct{ a, theta []float64 }

func (q quadratic) At(alpha float64) float64 {
	var s float64
	for i, a := range q.a {
		x := q.theta[i] - alpha*a*q.theta[i]
		s += 0.5 * a * x * x
	}
	return s
}

func (q quadratic) Jet(ad.Curvature) (g0, d1, d2 float64) {
	for i, a := range q.a {
		g := a * q.theta[i] // ∇f = u
		g0 += 0.5 * a * q.theta[i] * q.theta[i]
		d1 -= g * g     // g'(0) = −∇f·u
		d2 += g * a * g // g''(0) = uᵀAu
	}
	return g0, d1, d2
}

// Exact GeN on a quadratic is exact line search: α* = gᵀg / gᵀAg.
func ExampleExact() {
	q := quadratic{a: []float64{1, 4}, theta: []float64{1, 1}}
	d := gen.NewExact(gen.ExactConfig{}).Next(0, q)
	// g = (1, 4): gᵀg = 17, gᵀAg = 1 + 64 = 65.
	fmt.Printf("α = %.6f = 17/65, reason %s\n", d.LR, d.Reason)
	// Output: α = 0.261538 = 17/65, reason ok
}

// Approximate GeN choosing the learning rate of Adam's directions for a
// small MLP on a regression task, probing on the next batch (fresh).
func ExampleApprox() {
	r := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP[float64](nn.MLPConfig{In: 3, Hidden: []int{16}, Out: 1, Act: ad.Act{Kind: ad.Tanh}}, r)
	params := model.Params()
	values, grads, dirs := []*tensor.Tensor[float64]{}, []*tensor.Tensor[float64]{}, []*tensor.Tensor[float64]{}
	for _, p := range params {
		values, grads = append(values, p.Value), append(grads, p.Grad)
		dirs = append(dirs, tensor.New[float64](p.Shape()...))
	}
	// Batches of y = x₀ − 2x₁ + x₂².
	batch := func(seed uint64) (*tensor.Tensor[float64], *tensor.Tensor[float64]) {
		br := rand.New(rand.NewPCG(seed, 0))
		x, y := tensor.New[float64](32, 3), tensor.New[float64](32, 1)
		for i := range 32 {
			a, b, c := br.NormFloat64(), br.NormFloat64(), br.NormFloat64()
			x.Data()[3*i], x.Data()[3*i+1], x.Data()[3*i+2] = a, b, c
			y.Data()[i] = a - 2*b + c*c
		}
		return x, y
	}
	objective := func(x, y *tensor.Tensor[float64]) probe.Objective[float64] {
		return func(t *ad.Tape[float64]) *ad.Var[float64] {
			return ad.MeanSquaredError(t, model.Forward(t, t.Const(x)), y)
		}
	}
	adam := optim.NewAdam[float64](optim.AdamConfig{})
	rule := gen.NewApprox(gen.ApproxConfig{}) // γ = 0.9, Φ = 4, automatic start
	line := probe.New(params, dirs)
	var train, probeTape ad.Tape[float64]
	var first, last float64
	for step := range 200 {
		x, y := batch(uint64(step))
		train.Reset()
		loss := objective(x, y)(&train)
		ad.ZeroGrad(params)
		train.Backward(loss)
		adam.Direction(dirs, values, grads) // u, Adam's state advanced once
		nx, ny := batch(uint64(step + 1))   // the next batch: fresh probes
		line.Reset(&probeTape, objective(nx, ny), nil)
		d := rule.Next(step, line)
		for i, v := range values {
			tensor.Axpy(v, -d.LR, dirs[i]) // θ ← θ − α·u
		}
		if step == 0 {
			first = loss.Value.Item()
		}
		last = loss.Value.Item()
	}
	fmt.Printf("loss fell more than 10×: %v\n", last < first/10)
	// Output: loss fell more than 10×: true
}

// byCoordinate is the quadratic split into one group per coordinate.
type byCoordinate struct{ quadratic }

func (q byCoordinate) Groups() int { return len(q.a) }

func (q byCoordinate) AtGroups(alphas []float64) float64 {
	var s float64
	for i, a := range q.a {
		x := q.theta[i] - alphas[i]*a*q.theta[i]
		s += 0.5 * a * x * x
	}
	return s
}

func (q byCoordinate) JetGroups(w []float64, _ ad.Curvature) (g0, d1, d2 float64) {
	for i, a := range q.a {
		g := a * q.theta[i]
		g0 += 0.5 * a * q.theta[i] * q.theta[i]
		d1 -= g * w[i] * g
		d2 += w[i] * g * a * w[i] * g
	}
	return g0, d1, d2
}

// Per-group GeN gives each group its own rate, the minimizer of the loss
// in the groups' step sizes: on f = ½(θ₁² + 4θ₂²) with one group per
// coordinate, 1/1 and 1/4 — each coordinate lands on its minimum, which no
// single rate can do (the Exact example's 17/65 is a compromise).
func ExampleBlock() {
	q := byCoordinate{quadratic{a: []float64{1, 4}, theta: []float64{1, 1}}}
	d := gen.NewBlock(gen.BlockConfig{Exact: true, MaxChange: -1}).Next(0, q)
	fmt.Printf("rates %.4f and %.4f, reason %s\n", d.GroupLR[0], d.GroupLR[1], d.Reason)
	fmt.Printf("loss after the step %.4f (from %.4f)\n", q.AtGroups(d.GroupLR), q.At(0))
	// Output:
	// rates 1.0000 and 0.2500, reason ok
	// loss after the step 0.0000 (from 2.5000)
}

// Anneal ends a run with the cooldown of the level its rule held: here
// exact GeN on a fixed quadratic line holds α* = 17/65 for the first 80
// steps of 100, and the 1 − √ cooldown then anneals that level without
// asking the line again: at step 95, 5 of its 20 steps left, the rate is
// 17/65 · (1 − √(1 − 5/20)).
func ExampleAnneal() {
	q := quadratic{a: []float64{1, 4}, theta: []float64{1, 1}}
	r := gen.NewAnneal(gen.NewExact(gen.ExactConfig{}), gen.AnnealConfig{
		Horizon: gen.Horizon{Kind: gen.SqrtCooldown, Steps: 100},
	})
	for step := range 100 {
		d := r.Next(step, q)
		if step == 0 || step == 80 || step == 95 {
			fmt.Printf("step %d: α = %.6f (%s)\n", step, d.LR, d.Reason)
		}
	}
	// Output:
	// step 0: α = 0.261538 (ok)
	// step 80: α = 0.261538 (ok)
	// step 95: α = 0.035040 (scheduled)
}
