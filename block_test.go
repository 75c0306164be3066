package gen

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/internal/numcheck"
)

// groupQuad is quadLine with its coordinates split into groups: uᵢ is u on
// the coordinates of group i and zero elsewhere.
type groupQuad struct {
	*quadLine
	group []int
	k     int
}

func (g *groupQuad) Groups() int { return g.k }

func (g *groupQuad) point(alphas []float64) []float64 {
	p := make([]float64, len(g.th))
	for i := range p {
		p[i] = g.th[i] - alphas[g.group[i]]*g.u[i]
	}
	return p
}

func (g *groupQuad) AtGroups(alphas []float64) float64 { return g.f(g.point(alphas)) }

func (g *groupQuad) JetGroups(w []float64, _ ad.Curvature) (g0, d1, d2 float64) {
	grad := g.grad()
	v := make([]float64, len(g.th))
	for i := range v {
		v[i] = w[g.group[i]] * g.u[i]
	}
	for i := range v {
		d1 -= grad[i] * v[i]
		for j := range v {
			d2 += v[i] * g.A[i][j] * v[j]
		}
	}
	return g.f(g.th), d1, d2
}

// blockMinimizer is the oracle: C·α = s with Cᵢⱼ = uᵢᵀAuⱼ and sᵢ = ∇f·uᵢ,
// assembled coordinate by coordinate and solved by Gaussian elimination.
func blockMinimizer(g *groupQuad) []float64 {
	grad := g.grad()
	c := make([][]float64, g.k)
	for i := range c {
		c[i] = make([]float64, g.k)
	}
	s := make([]float64, g.k)
	for p := range g.th {
		s[g.group[p]] += grad[p] * g.u[p]
		for q := range g.th {
			c[g.group[p]][g.group[q]] += g.u[p] * g.A[p][q] * g.u[q]
		}
	}
	return solve(c, s)
}

// On a quadratic, exact and approximate per-group GeN both land on the
// exact minimizer over the k group step sizes, which is never worse than
// the best single rate.
func TestBlockIsExactBlockMinimizerOnQuadratic(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	for _, k := range []int{1, 2, 3} {
		q := &groupQuad{quadLine: newQuad(r, 7, 30), k: k}
		for i := range q.th {
			q.group = append(q.group, i%k)
		}
		want := blockMinimizer(q)
		for _, exact := range []bool{true, false} {
			rule := NewBlock(BlockConfig{Exact: exact, MaxChange: -1, Every: 1})
			for step := range 3 {
				d := rule.Next(step, q)
				if d.Reason != OK || !d.Estimated {
					t.Fatalf("k %d exact %v step %d: %v", k, exact, step, d.Reason)
				}
				for i, a := range d.GroupLR {
					if numcheck.Rel(a, want[i], 0) > 1e-10 {
						t.Fatalf("k %d exact %v step %d: rates %v, want C⁻¹s = %v", k, exact, step, d.GroupLR, want)
					}
				}
			}
		}
		if fb, fg := q.AtGroups(want), q.At(exactLineSearch(q.quadLine)); fb > fg*(1+1e-12)+1e-12 {
			t.Errorf("k %d: block minimum %v above the best single rate's %v", k, fb, fg)
		}
	}
}

// When the model is not convex in the groups (C indefinite), the couplings
// are dropped: αᵢ = sᵢ/Cᵢᵢ, projected into [ᾱ/2, 2ᾱ] around the single
// rate ᾱ = Σs/ΣC.
func TestBlockIndefiniteModelDropsCouplings(t *testing.T) {
	b := NewBlock(BlockConfig{Exact: true, Every: 1})
	b.alpha = []float64{1, 1}
	b.s = []float64{1, 3}
	b.c = []float64{4, 3, 3, 1} // eigenvalues 5.9 and −0.9
	b.w = 1
	if why := b.solve(); why != OK {
		t.Fatalf("solve: %v", why)
	}
	single := 4.0 / 11 // (1+3)/(4+3+3+1)
	want := []float64{max(1.0/4, single/2), min(3.0/1, 2*single)}
	if numcheck.Rel(b.single, single, 0) > 1e-15 || numcheck.Rel(b.alpha[0], want[0], 0) > 1e-15 || numcheck.Rel(b.alpha[1], want[1], 0) > 1e-15 {
		t.Fatalf("single %v, rates %v; want %v and %v", b.single, b.alpha, single, want)
	}
	// A total slope ≤ 0 is a failure for the policy.
	b.s = []float64{-1, 0.5}
	if why := b.solve(); why != NonDescent {
		t.Fatalf("Σs < 0: %v, want non-descent", why)
	}
}

// A Block rule restored from its State continues exactly; a state with a
// corrupted rate is refused.
func TestBlockStateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	q := &groupQuad{quadLine: newQuad(r, 6, 10), group: []int{0, 1, 0, 1, 0, 1}, k: 2}
	a, b := NewBlock(BlockConfig{Every: 1}), NewBlock(BlockConfig{Every: 1})
	a.Next(0, q)
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	x, y := a.Next(1, q), b.Next(1, q)
	if x.GroupLR[0] != y.GroupLR[0] || x.GroupLR[1] != y.GroupLR[1] {
		t.Fatalf("restored %v, original %v", y.GroupLR, x.GroupLR)
	}
	st := a.State()
	st.Values["alpha.1"] = -1
	if err := b.SetState(st); err == nil {
		t.Fatal("SetState accepted a negative rate")
	}
	st.Values["alpha.1"] = math.NaN()
	if err := b.SetState(st); err == nil {
		t.Fatal("SetState accepted a NaN rate")
	}
}
