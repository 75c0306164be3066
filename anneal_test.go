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
// horizon's 1 − √ factor, and the inner rule is not asked again. The
// tolerance 1e-14 allows a few roundings of ln, exp and the divisions.
func TestAnnealHoldsTheLevel(t *testing.T) {
	// T = 10: the cooldown covers the last 2 steps; h(8) = 1, h(9) = 1 − √½.
	in := &rates{lr: []float64{1, 4, 2, 8, 1, 2, 4, 1, 16, 99}}
	a := NewAnneal(in, AnnealConfig{Horizon: Horizon{Kind: SqrtCooldown, Steps: 10}, Window: 4})
	line := parabola(1, 1, 1)
	for step := range 9 {
		if _, ok := a.Ahead(step); ok {
			t.Fatalf("step %d: Ahead answered before the decay", step)
		}
		if got := a.Next(step, line).LR; got != in.lr[step] {
			t.Fatalf("step %d: %v, want the inner rule's %v", step, got, in.lr[step])
		}
	}
	// ℓ starts at ln 1 and moves a quarter of the way to each new ln α.
	l := 0.0
	for _, x := range in.lr[1:9] {
		l = 0.75*l + 0.25*math.Log(x)
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

// The linear cooldown's factor at 0.8·T rounds to just below 1 in float64;
// the decay still begins at 0.8·T + 1, where (T − t)/(0.2·T) < 1, and its
// rates are bounded by LRMin.
func TestAnnealLinearCooldownAndBounds(t *testing.T) {
	in := &rates{lr: []float64{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}
	a := NewAnneal(in, AnnealConfig{Horizon: Horizon{Kind: Cooldown, Steps: 10}, LRMin: 0.5})
	for step := range 9 {
		if d := a.Next(step, nil); d.Reason == Scheduled {
			t.Fatalf("step %d: scheduled before the decay", step)
		}
	}
	// exp(ln 2) is 2 within an ulp or two.
	if d := a.Next(9, nil); d.Reason != Scheduled || numcheck.Rel(d.LR, 1, 0) > 1e-15 { // 2 · (10 − 9)/2
		t.Fatalf("step 9: %+v, want the scheduled rate 2·½ = 1", d)
	}
	if d := a.Next(10, nil); d.LR != 0.5 {
		t.Fatalf("step 10: %v, want LRMin 0.5 (the factor is 0)", d.LR)
	}
}

// A caller that takes the lazy steps' decisions from Ahead (the trainer's
// fused update) sees the same rates, decay included, as one that calls
// Next on every step: the skipped steps enter the level from the inner
// rule's Ahead.
func TestAnnealForesightMatchesNext(t *testing.T) {
	line := parabola(1, 1, 10) // minimum at 0.1; approximate GeN from 0.01
	cfg := AnnealConfig{Horizon: Horizon{Kind: SqrtCooldown, Steps: 40}, Window: 3}
	every := NewAnneal(NewApprox(ApproxConfig{LR0: 0.01, Every: 4}), cfg)
	fused := NewAnneal(NewApprox(ApproxConfig{LR0: 0.01, Every: 4}), cfg)
	ahead := 0
	for step := range 40 {
		want := every.Next(step, line)
		got, ok := fused.Ahead(step)
		if ok {
			ahead++
		} else {
			got = fused.Next(step, line)
		}
		if got.LR != want.LR || got.Reason != want.Reason {
			t.Fatalf("step %d: %v (%s) through Ahead, %v (%s) through Next", step, got.LR, got.Reason, want.LR, want.Reason)
		}
	}
	// The level by hand, from a bare copy of the inner rule: every rate of
	// steps 0 … 32, lazy ones included, weighs in.
	bare := NewApprox(ApproxConfig{LR0: 0.01, Every: 4})
	l := math.Log(bare.Next(0, line).LR)
	for step := 1; step < 33; step++ {
		l += (math.Log(bare.Next(step, line).LR) - l) / 3
	}
	h := cfg.Horizon.Factor(36)
	if d := every.Next(36, line); numcheck.Rel(d.LR, math.Exp(l)*h, 0) > 1e-14 {
		t.Fatalf("step 36: %v, want exp(ℓ)·h = %v", d.LR, math.Exp(l)*h)
	}
	if ahead != 31 {
		t.Fatalf("%d of 40 steps were known ahead; want the 24 lazy ones before step 33 and the 7 of the decay", ahead)
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
	for key, v := range map[string]float64{"anneal.level": math.NaN(), "anneal.steps": 2.5} {
		bad := a.State()
		bad.Values[key] = v
		if err := b.SetState(bad); err == nil {
			t.Errorf("SetState accepted %s = %v", key, v)
		}
	}
	bad := a.State()
	bad.Values["anneal.level"] = 710 // exp(710) overflows
	if err := b.SetState(bad); err == nil {
		t.Error("SetState accepted a level whose rate is infinite")
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
