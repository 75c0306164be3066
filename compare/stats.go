package compare

import (
	"math"
	"slices"
)

// stat is the mean and sample standard deviation of the finite values
// among n runs.
type stat struct {
	Mean, SD float64
	N, Of    int // finite values, runs
}

func summarize(xs []float64) stat {
	s := stat{Of: len(xs)}
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			s.N++
		}
	}
	if s.N == 0 {
		return stat{Mean: math.NaN(), SD: math.NaN(), Of: len(xs)}
	}
	s.Mean = sum / float64(s.N)
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			ss += (x - s.Mean) * (x - s.Mean)
		}
	}
	if s.N > 1 {
		s.SD = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// group is the runs of one method on one task, ordered by seed.
type group struct {
	Task, Method, Group string
	Runs                []*Result
}

// groups collects results by (task, method) in first-seen order.
func groups(runs []*Result) []*group {
	var out []*group
	idx := map[[2]string]*group{}
	for _, r := range runs {
		k := [2]string{r.Task, r.Method}
		g, ok := idx[k]
		if !ok {
			g = &group{Task: r.Task, Method: r.Method, Group: r.Group}
			idx[k] = g
			out = append(out, g)
		}
		g.Runs = append(g.Runs, r)
	}
	for _, g := range out {
		slices.SortFunc(g.Runs, func(a, b *Result) int { return int(a.Seed) - int(b.Seed) })
	}
	return out
}

func (g *group) values(f func(*Result) float64) []float64 {
	v := make([]float64, len(g.Runs))
	for i, r := range g.Runs {
		v[i] = f(r)
	}
	return v
}

// loss is the mean final loss that ranks the runs (lossOf), +Inf if any
// run diverged: a method that diverges on one seed of three is not ranked
// above one that does not.
func (g *group) loss() float64 {
	for _, r := range g.Runs {
		if r.Diverged() {
			return math.Inf(1)
		}
	}
	return summarize(g.values(lossOf)).Mean
}

// meanCurve averages a per-step quantity over the runs that finished,
// step by step, up to the shortest of them.
func (g *group) meanCurve(f func(*Result) []float64) (steps, mean []float64) {
	var rs []*Result
	for _, r := range g.Runs {
		if !r.Diverged() && len(r.Curve.Step) > 0 {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		// Diverged everywhere: draw the first run as far as it got.
		if len(g.Runs) == 0 {
			return nil, nil
		}
		rs = g.Runs[:1]
	}
	n := len(f(rs[0]))
	for _, r := range rs[1:] {
		n = min(n, len(f(r)))
	}
	steps, mean = make([]float64, n), make([]float64, n)
	for i := range n {
		steps[i] = float64(rs[0].Curve.Step[i])
		for _, r := range rs {
			mean[i] += f(r)[i]
		}
		mean[i] /= float64(len(rs))
	}
	return steps, mean
}
