package gen

import (
	"math"
	"testing"

	"github.com/genopt/gen/internal/numcheck"
)

// rates is an inner rule that returns a fixed sequence of rates and counts
// its calls.
type rates struct {
	lr    []float64
	calls int
}

func (r *rates) Next(step int, _ Line) Decision {
	r.calls++
	d := newDecision(r.lr[step])
	d.Updated, d.Estimated = true, true
	return d
}
func (r *rates) State() State {
	return State{Kind: "rates", Values: map[string]float64{"calls": float64(r.calls)}}
}
func (r *rates) SetState(s State) error {
	if err := checkKind(s, "rates"); err != nil {
		return err
	}
	r.calls = int(s.Values["calls"])
	return nil
}
func (r *rates) Name() string { return "rates" }

// The level is the exponentially weighted geometric mean of the rates
// before the decay, computed here by hand; the decay applies it times the
// horizon's 1 − √ factor, and the inner rule is not asked again.
func TestAnnealHoldsTheLevel(t *testing.T) {
	// T = 10: the cooldown covers the last 2 steps; h(8) = 1, h(9) = 1 − √½.
	in := &rates{lr: []float64{1, 4, 2, 8, 1, 2, 4, 1, 16, 99}}
	a := NewAnneal(in, AnnealConfig{Horizon: Horizon{Kind: SqrtCooldown, Steps: 10}, Window: 2})
	line := parabola(1, 1, 1)
	for step := range 9 {
		if _, ok := a.Ahead(step); ok {
			t.Fatalf("step %d: Ahead answered before the decay", step)
		}
		if got := a.Next(step, line).LR; got != in.lr[step] {
			t.Fatalf("step %d: %v, want the inner rule's %v", step, got, in.lr[step])
		}
	}
	// ℓ starts at ln 1 and moves half-way to each new ln α.
	l := 0.0
	for _, x := range in.lr[1:9] {
		l = (l + math.Log(x)) / 2
	}
	if numcheck.Rel(a.Level(), math.Exp(l), 0) > 1e-14 {
		t.Fatalf("level %v, want %v", a.Level(), math.Exp(l))
	}
	ahead, ok := a.Ahead(9)
	d := a.Next(9, line)
	want := math.Exp(l) * (1 - math.Sqrt(0.5))
	if !ok || ahead.LR != d.LR || d.Reason != Scheduled || d.Estimated {
		t.Fatalf("step 9: Ahead %v (%v), Next %+v: want the same scheduled rate", ahead.LR, ok, d)
	}
	if numcheck.Rel(d.LR, want, 0) > 1e-14 {
		t.Fatalf("step 9: %v, want level·(1 − √½) = %v", d.LR, want)
	}
	if in.calls != 9 || line.calls != 0 {
		t.Fatalf("the inner rule was asked %d times (want 9), the line %d (want 0)", in.calls, line.calls)
	}
	if got := a.Next(10, line).LR; got != MinPositiveLR {
		t.Fatalf("after the last step: %v, want the smallest positive rate", got)
	}
}

func TestAnnealStateRoundTrip(t *testing.T) {
	lr := []float64{3, 1, 2, 5, 7, 1, 1, 1, 1, 1}
	h := AnnealConfig{Horizon: Horizon{Kind: Cooldown, Steps: 10}, Window: 3}
	a := NewAnneal(&rates{lr: lr}, h)
	for step := range 5 {
		a.Next(step, nil)
	}
	b := NewAnneal(&rates{lr: lr}, h)
	if err := b.SetState(a.State()); err != nil {
		t.Fatal(err)
	}
	for step := 5; step < 10; step++ {
		if x, y := a.Next(step, nil), b.Next(step, nil); x.LR != y.LR {
			t.Fatalf("step %d: restored %v, original %v", step, y.LR, x.LR)
		}
	}
	if err := b.SetState(State{Kind: "rates", Values: map[string]float64{}}); err == nil {
		t.Fatal("SetState accepted the inner rule's state without the wrapper's")
	}
	bad := a.State()
	bad.Values["anneal.level"] = math.NaN()
	if err := b.SetState(bad); err == nil {
		t.Fatal("SetState accepted a NaN level")
	}
}

func TestAnnealRejectsNonCooldowns(t *testing.T) {
	for _, h := range []Horizon{{}, {Kind: CosineDecay, Steps: 10}, {Kind: Cooldown}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewAnneal accepted horizon %+v", h)
				}
			}()
			NewAnneal(&rates{}, AnnealConfig{Horizon: h})
		}()
	}
}
