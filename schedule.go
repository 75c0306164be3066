package gen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ScheduleKind selects a classical learning-rate schedule.
type ScheduleKind int

const (
	// ConstantLR: α_t = LR.
	ConstantLR ScheduleKind = iota
	// StepLR: α_t = LR·Factor^⌊t/Every⌋ (PyTorch's StepLR).
	StepLR
	// LinearLR: α_t = LR·(1 − t/Steps), never below LR·1e-6 (PyTorch's
	// LinearLR to zero, kept positive).
	LinearLR
	// CosineLR: α_t = Min + ½(LR − Min)(1 + cos(π·t/Steps)) (Loshchilov &
	// Hutter, "SGDR", ICLR 2017, without restarts).
	CosineLR
)

// Schedule is a classical learning-rate schedule behind the Rule interface,
// for comparison with GeN. It never looks at the line.
type Schedule struct {
	Kind ScheduleKind
	// LR is the base (peak) learning rate; must be > 0.
	LR float64
	// Steps is the total number of steps (LinearLR, CosineLR).
	Steps int
	// Every and Factor define StepLR (defaults: Steps/3 and 0.1).
	Every  int
	Factor float64
	// Min is CosineLR's final learning rate (default 0, kept positive).
	Min float64
	// Warmup, when > 0, multiplies the schedule by min(1, (t+1)/Warmup):
	// linear warm-up (Goyal et al., arXiv:1706.02677).
	Warmup int
}

var _ Rule = (*Schedule)(nil)

// Next implements Rule.
func (s *Schedule) Next(step int, _ Line) Decision {
	d, _ := s.Ahead(step)
	return d
}

// Ahead implements Foresight: a schedule's rate never needs the line.
func (s *Schedule) Ahead(step int) (Decision, bool) {
	d := newDecision(s.At(step))
	d.Reason = Scheduled
	return d, true
}

// At returns the learning rate of step t.
func (s *Schedule) At(t int) float64 {
	if !(s.LR > 0) || math.IsInf(s.LR, 0) {
		panic(fmt.Sprintf("gen: Schedule: LR %g must be finite and > 0", s.LR))
	}
	lr := s.LR
	frac := func() float64 {
		if s.Steps <= 0 {
			panic(fmt.Sprintf("gen: Schedule %s needs Steps > 0", s.Name()))
		}
		return min(float64(t)/float64(s.Steps), 1)
	}
	switch s.Kind {
	case StepLR:
		every, factor := s.Every, s.Factor
		if every <= 0 {
			every = max(s.Steps/3, 1)
		}
		if factor == 0 {
			factor = 0.1
		}
		lr *= math.Pow(factor, float64(t/every))
	case LinearLR:
		lr *= 1 - frac()
	case CosineLR:
		lr = s.Min + 0.5*(s.LR-s.Min)*(1+math.Cos(math.Pi*frac()))
	}
	if s.Warmup > 0 {
		lr *= min(1, float64(t+1)/float64(s.Warmup))
	}
	return max(lr, s.LR*1e-6)
}

// Name describes the schedule, e.g. "cosine:0.01".
func (s *Schedule) Name() string {
	n := [...]string{"const", "step", "linear", "cosine"}[s.Kind]
	return fmt.Sprintf("%s:%g", n, s.LR)
}

// State implements Rule: a schedule is a function of the step alone.
func (s *Schedule) State() State { return State{Kind: "schedule", Values: map[string]float64{}} }

// SetState implements Rule.
func (s *Schedule) SetState(st State) error { return checkKind(st, "schedule") }

// ParseSchedule parses "const:X", "step:X", "linear:X" or "cosine:X" with
// X the base learning rate, for a run of the given number of steps;
// "cosine:X:Y" decays to the final rate Y (Min) instead of 0, as nanoGPT's
// cosine to a tenth of the peak.
func ParseSchedule(spec string, steps int) (*Schedule, error) {
	name, val, ok := strings.Cut(spec, ":")
	final := 0.0
	if v, f, two := strings.Cut(val, ":"); two && name == "cosine" {
		y, err := strconv.ParseFloat(f, 64)
		if err != nil || !(y >= 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("schedule %q: final learning rate %q must be a number ≥ 0", spec, f)
		}
		val, final = v, y
	}
	kinds := map[string]ScheduleKind{"const": ConstantLR, "step": StepLR, "linear": LinearLR, "cosine": CosineLR}
	k, known := kinds[name]
	if !known || !ok {
		return nil, fmt.Errorf("unknown schedule %q; valid: const:X, step:X, linear:X, cosine:X[:Y] (X the learning rate, Y cosine's final rate)", spec)
	}
	lr, err := strconv.ParseFloat(val, 64)
	if err != nil || !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("schedule %q: learning rate %q must be a positive number", spec, val)
	}
	if final > lr {
		return nil, fmt.Errorf("schedule %q: final learning rate %g exceeds the peak %g", spec, final, lr)
	}
	return &Schedule{Kind: k, LR: lr, Steps: steps, Min: final}, nil
}
