package optim

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/genopt/gen/tensor"
)

// Shape legend for this package: P is the number of parameter tensors; the
// i-th tensor has n_i elements. u, params and grads are slices of P tensors,
// u[i], params[i] and grads[i] share one shape.

// Optimizer computes update directions u = ω(θ, ∇f); the caller scales and
// applies θ ← θ − α·u.
type Optimizer[T tensor.Float] interface {
	// Direction writes u[i] (same shape as params[i]) from the parameters θ
	// and gradients g, advancing the optimizer's own state exactly once per
	// call. It must not modify params or grads. u must not alias params or
	// grads. Mismatched lengths or shapes panic.
	Direction(u, params, grads []*tensor.Tensor[T])
	// State returns the complete state (exact: restoring it continues
	// bit-for-bit). The result shares no memory with the optimizer.
	State() State
	// SetState restores a State from the same optimizer kind and parameter
	// shapes, or returns an error saying what differs. The optimizer keeps
	// no reference to s.
	SetState(s State) error
	// Name returns the optimizer's kind, one of the names New accepts.
	Name() string
}

// Updater is an Optimizer that can apply its own step when the learning
// rate is known before the step (a schedule, a lazy GeN step:
// gen.Foresight): Update advances the state
// exactly as Direction does and sets, for every parameter,
//
//	θ ← θ − lr·u
//
// with the bits of Direction into u followed by tensor.Axpy(θ, −lr, u), but
// without writing u: one pass over the state instead of two. A rule that
// needs u itself (GeN's probes) calls Direction. params are modified in
// place; grads are not. Mismatched lengths or shapes panic.
type Updater[T tensor.Float] interface {
	Optimizer[T]
	Update(params, grads []*tensor.Tensor[T], lr T)
}

// State is the complete, JSON-serializable state of an optimizer.
//
// Every element of a float32 or float64 buffer is stored as a float64, which
// holds either exactly. In JSON (MarshalJSON) each buffer is the base64 of
// its values' bits, so a round trip is exact for every value, non-finite
// ones included; the former form, arrays of numbers, still reads.
type State struct {
	// Kind is the optimizer's Name.
	Kind string `json:"kind"`
	// Step is the number of Direction calls so far.
	Step int64 `json:"step"`
	// Shapes are the parameter shapes the buffers belong to; nil before the
	// first Direction call.
	Shapes [][]int `json:"shapes,omitempty"`
	// Scalars are named scalar state (for example D-Adaptation's distance
	// estimate d); nil when the optimizer has none.
	Scalars map[string]float64 `json:"scalars,omitempty"`
	// Buffers are named per-element buffers, Buffers[name][i] for
	// parameter i in row-major order (for example Adam's "m" and "v").
	Buffers map[string][][]float64 `json:"buffers,omitempty"`
}

// Group gives a set of parameters a direction multiplier: after the optimizer
// computes u_i for a parameter i in Params, u_i is multiplied by Scale. One
// learning rate α, whatever rule chooses it, then keeps the groups' ratios
// (for example Scale 0.1 for a pretrained backbone, 1 for a new head).
// Parameters in no group have multiplier 1.
type Group struct {
	// Params are indices into the params slice given to Direction. An index
	// may appear in at most one group.
	Params []int
	// Scale is the multiplier, used as given (0 freezes the group); it must
	// be finite and non-negative.
	Scale float64
}

// Common holds the options every optimizer accepts.
type Common struct {
	// WeightDecay is λ ≥ 0. For SGD, Momentum, Adam, RMSProp and Adagrad it
	// is coupled L2 regularization, g ← g + λθ before the optimizer sees the
	// gradient (the gradient of f + λ/2‖θ‖²). For AdamW and Lion it is
	// decoupled: u ← u + λθ after the adaptive direction. Default 0 (AdamW:
	// 0.01, PyTorch's default; Off turns it off).
	WeightDecay float64
	// ClipNorm, when positive, clips the gradient by its global L2 norm over
	// all parameters before anything else: g ← g·min(1, ClipNorm/‖g‖). The
	// caller's gradients are not modified. Default 0: no clipping.
	ClipNorm float64
	// Groups are parameter groups with direction multipliers. Default: none
	// (every multiplier 1).
	Groups []Group
}

// Off, given to a float configuration field, sets it to exactly 0 where 0
// itself would mean "the default".
const Off = -1.0

// setting resolves a configuration value: 0 → def, Off → 0, other negative
// or non-finite → panic naming the constructor and the field.
func setting(op, field string, v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v == Off:
		return 0
	case v < 0 || math.IsNaN(v) || math.IsInf(v, 0):
		panic(fmt.Sprintf("optim: %s: %s = %v, want a finite value ≥ 0 (0 means the default %v, Off means 0)", op, field, v, def))
	}
	return v
}

// beta resolves a decay rate β with default def and checks 0 ≤ β < 1.
func beta(op, field string, v, def float64) float64 {
	b := setting(op, field, v, def)
	if b >= 1 {
		panic(fmt.Sprintf("optim: %s: %s = %v, want 0 ≤ %s < 1", op, field, v, field))
	}
	return b
}

// Names returns the names of the base optimizers New accepts, in a fixed
// order: directions meant to be scaled by a learning rate α that a rule
// chooses.
func Names() []string {
	return []string{"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad", "lion"}
}

// PeerNames returns the names of the learning-rate-free optimizers New
// accepts: their directions include their own step size and are meant to
// run with α = 1.
func PeerNames() []string {
	return []string{"dadapt-adam", "dadapt-sgd", "prodigy", "dog"}
}

// New returns the optimizer called name (one of Names or PeerNames) with the common
// options cfg and every other hyperparameter at its published default. It is
// the name → constructor table for command lines; an unknown name is an error
// that lists the valid ones.
func New[T tensor.Float](name string, cfg Common) (Optimizer[T], error) {
	switch name {
	case "sgd":
		return NewSGD[T](SGDConfig{Common: cfg}), nil
	case "momentum":
		return NewMomentum[T](MomentumConfig{Common: cfg}), nil
	case "nesterov":
		return NewMomentum[T](MomentumConfig{Common: cfg, Nesterov: true}), nil
	case "adam":
		return NewAdam[T](AdamConfig{Common: cfg}), nil
	case "adamw":
		return NewAdamW[T](AdamWConfig{Common: cfg}), nil
	case "rmsprop":
		return NewRMSProp[T](RMSPropConfig{Common: cfg}), nil
	case "adagrad":
		return NewAdagrad[T](AdagradConfig{Common: cfg}), nil
	case "lion":
		return NewLion[T](LionConfig{Common: cfg}), nil
	case "dadapt-adam":
		return NewDAdaptAdam[T](DAdaptAdamConfig{Common: cfg}), nil
	case "dadapt-sgd":
		return NewDAdaptSGD[T](DAdaptSGDConfig{Common: cfg}), nil
	case "prodigy":
		return NewProdigy[T](ProdigyConfig{Common: cfg}), nil
	case "dog":
		return NewDoG[T](DoGConfig{Common: cfg}), nil
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q: want one of %s (or, run with α = 1, %s)",
		name, strings.Join(Names(), "|"), strings.Join(PeerNames(), "|"))
}

// base is the bookkeeping every optimizer shares: argument checks, lazy
// buffer sizing, gradient clipping, group multipliers, the step count, and
// the conversion of buffers to and from State.
type base[T tensor.Float] struct {
	kind     string
	clip     float64
	groups   []Group
	bufNames []string // buffer k is called bufNames[k]

	step   int64
	shapes [][]int   // nil until sized
	mult   []T       // mult[i]: direction multiplier of parameter i
	bufs   [][][]T   // bufs[k][i]: buffer k of parameter i
	sizes  []int     // sizes[i] = number of elements of parameter i
	scalar []float64 // optimizer-specific scalars, named by scalarNames
	sNames []string
}

func newBase[T tensor.Float](kind string, c Common, bufNames ...string) base[T] {
	op := kind
	clip := setting(op, "ClipNorm", c.ClipNorm, 0)
	groups := make([]Group, len(c.Groups))
	for gi, g := range c.Groups {
		if g.Scale < 0 || math.IsNaN(g.Scale) || math.IsInf(g.Scale, 0) {
			panic(fmt.Sprintf("optim: %s: Groups[%d].Scale = %v, want a finite value ≥ 0", op, gi, g.Scale))
		}
		groups[gi] = Group{Params: slices.Clone(g.Params), Scale: g.Scale}
	}
	return base[T]{kind: kind, clip: clip, groups: groups, bufNames: bufNames, bufs: make([][][]T, len(bufNames))}
}

// withScalars declares the optimizer's named scalars (initial values vals).
func (b *base[T]) withScalars(names []string, vals []float64) {
	b.sNames = names
	b.scalar = vals
}

// size allocates zeroed buffers for the given shapes and computes the group
// multipliers.
func (b *base[T]) size(shapes [][]int) {
	b.shapes = make([][]int, len(shapes))
	b.sizes = make([]int, len(shapes))
	for i, s := range shapes {
		b.shapes[i] = slices.Clone(s)
		n := 1
		for _, d := range s {
			n *= d
		}
		b.sizes[i] = n
	}
	for k := range b.bufs {
		b.bufs[k] = make([][]T, len(shapes))
		for i, n := range b.sizes {
			b.bufs[k][i] = make([]T, n)
		}
	}
	b.mult = make([]T, len(shapes))
	for i := range b.mult {
		b.mult[i] = 1
	}
	inGroup := make([]bool, len(shapes))
	for gi, g := range b.groups {
		for _, p := range g.Params {
			if p < 0 || p >= len(shapes) {
				panic(fmt.Sprintf("optim: %s: Groups[%d] names parameter %d, but there are %d parameters", b.kind, gi, p, len(shapes)))
			}
			if inGroup[p] {
				panic(fmt.Sprintf("optim: %s: parameter %d is named more than once in Groups", b.kind, p))
			}
			inGroup[p] = true
			b.mult[p] = T(g.Scale)
		}
	}
}

// begin checks the arguments of a Direction call, sizes the buffers on the
// first call, advances the step count and returns the clipping factor
// c = min(1, ClipNorm/‖g‖) (1 without clipping) that scales the gradient.
// An Update call passes u = nil: there is no direction to check.
func (b *base[T]) begin(u, params, grads []*tensor.Tensor[T]) T {
	op := "Direction"
	if u == nil {
		op = "Update"
	}
	if u == nil && len(grads) != len(params) {
		panic(fmt.Sprintf("optim: %s: Update: got %d parameters, %d gradients; want equal counts", b.kind, len(params), len(grads)))
	}
	if u != nil && (len(u) != len(params) || len(grads) != len(params)) {
		panic(fmt.Sprintf("optim: %s: Direction: got %d directions, %d parameters, %d gradients; want equal counts", b.kind, len(u), len(params), len(grads)))
	}
	if b.shapes == nil {
		shapes := make([][]int, len(params))
		for i, p := range params {
			shapes[i] = p.Shape()
		}
		b.size(shapes)
	}
	if len(params) != len(b.shapes) {
		panic(fmt.Sprintf("optim: %s: %s: got %d parameters, the optimizer's state has %d", b.kind, op, len(params), len(b.shapes)))
	}
	for i, p := range params {
		if !slices.Equal(p.Shape(), b.shapes[i]) || !slices.Equal(grads[i].Shape(), b.shapes[i]) {
			panic(fmt.Sprintf("optim: %s: %s: parameter %d: shapes param %v, grad %v; the optimizer's state has %v",
				b.kind, op, i, p.Shape(), grads[i].Shape(), b.shapes[i]))
		}
		if u == nil {
			continue
		}
		if !slices.Equal(u[i].Shape(), b.shapes[i]) {
			panic(fmt.Sprintf("optim: %s: Direction: parameter %d: shapes param %v, grad %v, direction %v; the optimizer's state has %v",
				b.kind, i, p.Shape(), grads[i].Shape(), u[i].Shape(), b.shapes[i]))
		}
		if n := p.Len(); n > 0 {
			ud := u[i].Data()
			if &ud[0] == &p.Data()[0] || &ud[0] == &grads[i].Data()[0] {
				panic(fmt.Sprintf("optim: %s: Direction: direction %d aliases its parameter or gradient", b.kind, i))
			}
		}
	}
	b.step++
	if b.clip <= 0 {
		return 1
	}
	var ss float64
	for _, g := range grads {
		ss += tensor.Dot(g, g)
	}
	norm := math.Sqrt(ss)
	if norm > b.clip {
		return T(b.clip / norm)
	}
	return 1
}

// state converts the bookkeeping to a State.
func (b *base[T]) state() State {
	s := State{Kind: b.kind, Step: b.step}
	if b.shapes != nil {
		s.Shapes = make([][]int, len(b.shapes))
		for i, sh := range b.shapes {
			s.Shapes[i] = slices.Clone(sh)
		}
		if len(b.bufs) > 0 {
			s.Buffers = make(map[string][][]float64, len(b.bufs))
			for k, name := range b.bufNames {
				bk := make([][]float64, len(b.bufs[k]))
				for i, buf := range b.bufs[k] {
					f := make([]float64, len(buf))
					for j, v := range buf {
						f[j] = float64(v)
					}
					bk[i] = f
				}
				s.Buffers[name] = bk
			}
		}
	}
	if len(b.sNames) > 0 {
		s.Scalars = make(map[string]float64, len(b.sNames))
		for k, name := range b.sNames {
			s.Scalars[name] = b.scalar[k]
		}
	}
	return s
}

// setState checks s against the optimizer and, if it fits, restores it.
func (b *base[T]) setState(s State) error {
	where := "optim: " + b.kind + ": SetState"
	if s.Kind != b.kind {
		return fmt.Errorf("%s: state is for optimizer %q, not %q; restore it into a %q optimizer", where, s.Kind, b.kind, s.Kind)
	}
	if s.Step < 0 {
		return fmt.Errorf("%s: step %d is negative", where, s.Step)
	}
	if b.shapes != nil && s.Shapes != nil {
		if len(s.Shapes) != len(b.shapes) {
			return fmt.Errorf("%s: state has %d parameters, the optimizer has %d", where, len(s.Shapes), len(b.shapes))
		}
		for i := range s.Shapes {
			if !slices.Equal(s.Shapes[i], b.shapes[i]) {
				return fmt.Errorf("%s: parameter %d has shape %v in the state, %v in the optimizer", where, i, s.Shapes[i], b.shapes[i])
			}
		}
	}
	if s.Shapes == nil && s.Step != 0 {
		return fmt.Errorf("%s: state at step %d has no parameter shapes", where, s.Step)
	}
	for i, sh := range s.Shapes {
		for _, d := range sh {
			if d < 0 {
				return fmt.Errorf("%s: parameter %d has negative dimension in shape %v", where, i, sh)
			}
		}
	}
	// Buffers: exactly the expected names, each with one slice per
	// parameter of the right length.
	want := 0
	if s.Shapes != nil {
		want = len(b.bufNames)
	}
	if len(s.Buffers) != want {
		return fmt.Errorf("%s: state has buffers %v, want %v", where, mapKeys(s.Buffers), b.bufNames[:want])
	}
	sizes := make([]int, len(s.Shapes))
	for i, sh := range s.Shapes {
		sizes[i] = 1
		for _, d := range sh {
			sizes[i] *= d
		}
	}
	for _, name := range b.bufNames[:want] {
		buf, ok := s.Buffers[name]
		if !ok {
			return fmt.Errorf("%s: state lacks buffer %q (has %v)", where, name, mapKeys(s.Buffers))
		}
		if len(buf) != len(sizes) {
			return fmt.Errorf("%s: buffer %q has %d parameters, the shapes say %d", where, name, len(buf), len(sizes))
		}
		for i, n := range sizes {
			if len(buf[i]) != n {
				return fmt.Errorf("%s: buffer %q, parameter %d: %d elements, shape %v needs %d", where, name, i, len(buf[i]), s.Shapes[i], n)
			}
		}
	}
	if len(s.Scalars) != len(b.sNames) {
		return fmt.Errorf("%s: state has scalars %v, want %v", where, mapKeys(s.Scalars), b.sNames)
	}
	for _, name := range b.sNames {
		if _, ok := s.Scalars[name]; !ok {
			return fmt.Errorf("%s: state lacks scalar %q (has %v)", where, name, mapKeys(s.Scalars))
		}
	}

	// Everything fits: restore.
	b.step = s.Step
	for k, name := range b.sNames {
		b.scalar[k] = s.Scalars[name]
	}
	if s.Shapes == nil {
		b.shapes, b.sizes, b.mult = nil, nil, nil
		for k := range b.bufs {
			b.bufs[k] = nil
		}
		return nil
	}
	if b.shapes == nil {
		b.size(s.Shapes)
	}
	for k, name := range b.bufNames {
		for i, src := range s.Buffers[name] {
			dst := b.bufs[k][i]
			for j, v := range src {
				dst[j] = T(v)
			}
		}
	}
	return nil
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
