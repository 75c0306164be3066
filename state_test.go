package gen

import (
	"math"
	"strings"
	"testing"
)

// A rule state read back from a checkpoint is range checked: a missing,
// negative or non-finite α is an error, and the rule keeps its state.
func TestSetStateValidatesAlpha(t *testing.T) {
	rules := map[string]func() Rule{
		"gen":       func() Rule { return NewApprox(ApproxConfig{LR0: 0.01}) },
		"gen-exact": func() Rule { return NewExact(ExactConfig{}) },
	}
	for kind, mk := range rules {
		for _, tc := range []struct {
			values map[string]float64
			want   string
		}{
			{map[string]float64{}, `no "alpha"`},
			{map[string]float64{"alpha": -1}, "alpha = -1"},
			{map[string]float64{"alpha": math.NaN()}, "alpha = NaN"},
			{map[string]float64{"alpha": math.Inf(1)}, "alpha = +Inf"},
		} {
			r := mk()
			before := r.State().Values["alpha"]
			err := r.SetState(State{Kind: kind, Values: tc.values})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: SetState(%v) = %v, want an error containing %q", kind, tc.values, err, tc.want)
			}
			if got := r.State().Values["alpha"]; got != before {
				t.Errorf("%s: a refused state changed α from %v to %v", kind, before, got)
			}
		}
		r := mk()
		if err := r.SetState(State{Kind: kind, Values: map[string]float64{"alpha": 0}}); err != nil {
			t.Errorf("%s: α = 0 (no update yet) refused: %v", kind, err)
		}
	}
}
