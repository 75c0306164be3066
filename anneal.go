package gen

import (
	"fmt"
	"math"
	"strings"
)

// AnnealConfig configures Anneal.
type AnnealConfig struct {
	// Horizon is the decay that ends the run: Cooldown or SqrtCooldown,
	// with Steps. Its Warmup is not read (the inner rule warms up).
	Horizon Horizon
	// Window is the averaging time of the level, in steps: the applied
	// rates' logarithms are averaged exponentially with weight 1/Window a
	// step (default 100).
	Window int
}

// Anneal hands the last part of a run to a fixed decay of the level its
// inner rule held: the warmup-stable-decay shape of Hägele et al.
// ("Scaling Laws and Compute-Optimal Training Beyond Fixed Training
// Durations", NeurIPS 2024), with the stable rate chosen by GeN. Until the
// horizon's factor h(t) first falls below 1 it returns the inner rule's
// decisions and keeps the exponentially weighted mean of ln α over the last
// Window steps,
//
//	ℓ ← ℓ + (ln α_t − ℓ)/Window,
//
// and from then on it applies exp(ℓ)·h(t) (reason Scheduled) without asking
// the line: no probe, no forward pass.
//
// A GeN rule cannot anneal its own rate: along AdamW's direction on the
// transformer the line's minimizer is a fixed fraction of the rate in use
// (docs/results/gpt.md), so the smoothed estimate follows the decay down
// and the trust test's κ, which grows as the shorter steps fit the
// parabola better, lengthens them again: with the horizon inside the rule
// the rate over h(t) rose up to twofold during the default's cooldown.
// The inner rule is built without the decay.
type Anneal struct {
	inner  Rule
	cfg    AnnealConfig
	level  float64 // ℓ, the mean of ln α so far
	steps  int     // the steps averaged into ℓ
	starts int     // the first step of the decay
}

var (
	_ Rule      = (*Anneal)(nil)
	_ Foresight = (*Anneal)(nil)
)

// NewAnneal wraps inner; it panics unless the horizon is a cooldown with
// Steps > 0 and Window ≥ 0.
func NewAnneal(inner Rule, cfg AnnealConfig) *Anneal {
	h := cfg.Horizon
	if inner == nil || (h.Kind != Cooldown && h.Kind != SqrtCooldown) || h.Steps <= 0 || cfg.Window < 0 {
		panic(fmt.Sprintf("gen: Anneal needs an inner rule, a cooldown horizon with Steps > 0 and Window ≥ 0, not %+v", cfg))
	}
	if cfg.Window == 0 {
		cfg.Window = 100
	}
	cfg.Horizon.Warmup = 0
	// The decay's first step: the first t with h(t) < 1.
	start := 0
	for start < h.Steps && cfg.Horizon.Factor(start) >= 1 {
		start++
	}
	return &Anneal{inner: inner, cfg: cfg, starts: start}
}

// Name describes the rule.
func (a *Anneal) Name() string {
	return fmt.Sprintf("anneal(%s, %s from step %d at the %d-step level)", a.inner.Name(), strings.TrimPrefix(a.cfg.Horizon.suffix(), ", "), a.starts, a.cfg.Window)
}

// Level returns the level exp(ℓ) the decay starts from (0 before any step).
func (a *Anneal) Level() float64 {
	if a.steps == 0 {
		return 0
	}
	return math.Exp(a.level)
}

// Next implements Rule.
func (a *Anneal) Next(step int, line Line) Decision {
	if d, ok := a.Ahead(step); ok {
		return d
	}
	d := a.inner.Next(step, line)
	if a.steps == 0 {
		a.level = math.Log(d.LR)
	} else {
		a.level += (math.Log(d.LR) - a.level) / float64(a.cfg.Window)
	}
	a.steps++
	return d
}

// Ahead implements Foresight: every step of the decay is known in advance
// once a level exists. Before the decay it returns false, so that every
// applied rate passes through Next and into the level.
func (a *Anneal) Ahead(step int) (Decision, bool) {
	if step < a.starts || a.steps == 0 {
		return Decision{}, false
	}
	d := newDecision(max(a.Level()*a.cfg.Horizon.Factor(step), MinPositiveLR))
	d.Reason = Scheduled
	return d, true
}

// State implements Rule: the inner rule's values, prefixed "inner.", and
// the level's mean and step count.
func (a *Anneal) State() State {
	in := a.inner.State()
	v := map[string]float64{"anneal.level": a.level, "anneal.steps": float64(a.steps)}
	for k, x := range in.Values {
		v["inner."+k] = x
	}
	return State{Kind: "anneal/" + in.Kind, Values: v}
}

// SetState implements Rule.
func (a *Anneal) SetState(s State) error {
	kind, ok := strings.CutPrefix(s.Kind, "anneal/")
	if !ok {
		return fmt.Errorf("gen: state is for rule %q, not an annealed one: resume with the same --cooldown setting", s.Kind)
	}
	n, err := s.Value("anneal.steps", 0, math.MaxInt32)
	if err != nil {
		return err
	}
	level, err := s.Value("anneal.level", -math.MaxFloat64, math.MaxFloat64)
	if err != nil {
		return err
	}
	in := State{Kind: kind, Values: map[string]float64{}}
	for k, x := range s.Values {
		if rest, ok := strings.CutPrefix(k, "inner."); ok {
			in.Values[rest] = x
		}
	}
	if err := a.inner.SetState(in); err != nil {
		return err
	}
	a.level, a.steps = level, int(n)
	return nil
}
