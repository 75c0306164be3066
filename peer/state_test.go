package peer

import (
	"strings"
	"testing"

	"github.com/genopt/gen"
)

// A trust wrapper's κ and the SPS/SLS previous step read back from a
// checkpoint are range checked, not replaced by a default.
func TestSetStateValidatesRanges(t *testing.T) {
	trust := func() gen.Rule { return NewTrust(gen.NewApprox(gen.ApproxConfig{}), TrustConfig{MaxScale: 2}) }
	cases := []struct {
		rule  func() gen.Rule
		state gen.State
		want  string
	}{
		{trust, gen.State{Kind: "trust/gen", Values: map[string]float64{"kappa": 0, "inner.alpha": 0.1}}, "kappa = 0"},
		{trust, gen.State{Kind: "trust/gen", Values: map[string]float64{"kappa": 3, "inner.alpha": 0.1}}, "kappa = 3"},
		{trust, gen.State{Kind: "trust/gen", Values: map[string]float64{"inner.alpha": 0.1}}, `no "kappa"`},
		{trust, gen.State{Kind: "trust/gen", Values: map[string]float64{"kappa": 1}}, `no "alpha"`},
		{func() gen.Rule { return NewSPS(SPSConfig{}) }, gen.State{Kind: "sps", Values: map[string]float64{"prev": -1}}, "prev = -1"},
		{func() gen.Rule { return NewSLS(SLSConfig{}) }, gen.State{Kind: "sls", Values: map[string]float64{}}, `no "prev"`},
	}
	for _, c := range cases {
		if err := c.rule().SetState(c.state); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetState(%v) = %v, want an error containing %q", c.state, err, c.want)
		}
	}
	good := gen.State{Kind: "trust/gen", Values: map[string]float64{"kappa": 1.5, "inner.alpha": 0.1}}
	if err := trust().SetState(good); err != nil {
		t.Errorf("SetState(%v): %v", good, err)
	}
}
