package probe

import (
	"fmt"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/nn"
	"github.com/genopt/gen/tensor"
)

// Mode selects the batch a line is evaluated on.
type Mode int

const (
	// Fresh: the next batch of the training stream, at the current θ,
	// before it is trained on (the default).
	Fresh Mode = iota
	// Same: the batch the gradient came from, reusing the training forward
	// (its loss is g(0) and its tape gives the jet without another forward).
	Same
	// Stream: a batch from an independent iterator over the training set.
	Stream
)

var modeNames = [...]string{"fresh", "same", "stream"}

// String returns "fresh", "same" or "stream".
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// ParseMode parses a Mode name.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("unknown probe batch %q; valid: fresh, same, stream", s)
}

// Objective records the scalar loss of the model on one batch, at the
// current parameter values, on the tape it is given.
type Objective[T ad.Float] func(t *ad.Tape[T]) *ad.Var[T]

// Line is g(α) = f(θ − α·u) for an Objective. It implements gen.Line. A
// Line is reused across steps with Reset, so probing does not allocate in
// steady state.
type Line[T ad.Float] struct {
	params []*ad.Var[T]
	dir    []*tensor.Tensor[T]
	saved  []*tensor.Tensor[T]

	tape    *ad.Tape[T]
	obj     Objective[T]
	atTheta *ad.Var[T]          // the loss recorded at θ on tape, while still valid
	grads   []*tensor.Tensor[T] // ∇f at θ on this line's batch, when known
	drawn   bool                // the tape's stochastic primitives have drawn for this line

	// Forwards and Jets count the forward passes and jet sweeps this line
	// has run since it was made (not reset by Reset).
	Forwards, Jets int
}

// New returns a line over params along the direction dir (dir[i] has the
// shape of params[i]; the line reads dir when probed, so the caller may
// refill it between steps).
func New[T ad.Float](params []*ad.Var[T], dir []*tensor.Tensor[T]) *Line[T] {
	if len(params) != len(dir) {
		panic(fmt.Sprintf("probe: New: %d parameters but %d directions", len(params), len(dir)))
	}
	for i, p := range params {
		if !tensor.SameShape(p.Value, dir[i]) {
			panic(fmt.Sprintf("probe: New: direction %d has shape %v, parameter %q has %v", i, dir[i].Shape(), p.Name, p.Value.Shape()))
		}
	}
	return &Line[T]{params: params, dir: dir, saved: nn.Snapshot(params)}
}

// Reset points the line at a new batch: obj records its loss on tape. When
// recorded is non-nil, the tape already holds obj's loss at the current θ
// (the training forward, for Same), which then gives g(0) and the jet
// without another forward pass, and whose dropout masks later evaluations
// replay.
func (l *Line[T]) Reset(tape *ad.Tape[T], obj Objective[T], recorded *ad.Var[T]) {
	l.tape, l.obj, l.atTheta, l.grads = tape, obj, recorded, nil
	l.drawn = recorded != nil
}

// SetGradient tells the line the gradient ∇f at θ on its batch (the
// training gradient, for Same), so that Slope costs one dot product.
func (l *Line[T]) SetGradient(grads []*tensor.Tensor[T]) { l.grads = grads }

// Slope returns g(0) and g'(0) = −∇f·u: from the gradient given to
// SetGradient when there is one, and from a jet sweep otherwise.
func (l *Line[T]) Slope() (g0, d1 float64) {
	if l.grads == nil {
		g0, d1, _ = l.Jet(ad.GaussNewton)
		return g0, d1
	}
	for i, g := range l.grads {
		d1 -= tensor.Dot(g, l.dir[i])
	}
	return l.At(0), d1
}

// record runs the objective on the tape at the current parameters. The
// first recording of a line draws dropout masks; later ones replay them.
func (l *Line[T]) record() *ad.Var[T] {
	if l.tape == nil {
		panic("probe: Line used before Reset")
	}
	old := l.tape.ReplayRandom
	l.tape.ReplayRandom = l.drawn
	l.tape.Reset()
	v := l.obj(l.tape)
	l.tape.ReplayRandom = old
	l.drawn = true
	l.Forwards++
	return v
}

// At returns g(α) = f(θ − α·u); θ is restored bit for bit.
func (l *Line[T]) At(alpha float64) float64 {
	if alpha == 0 {
		if l.atTheta == nil {
			l.atTheta = l.record()
		}
		return ad.Scalar(l.atTheta)
	}
	nn.SaveTo(l.saved, l.params)
	for i, p := range l.params {
		tensor.Axpy(p.Value, T(-alpha), l.dir[i])
	}
	v := ad.Scalar(l.record())
	l.atTheta = nil // the tape now holds the forward at θ − α·u
	nn.Restore(l.params, l.saved)
	return v
}

// Jet returns g(0), g'(0) = −∇f·u and g″(0) = uᵀHu (or uᵀGu) by one jet
// sweep over the forward at θ, recording it first if the tape does not
// hold it.
func (l *Line[T]) Jet(c ad.Curvature) (g0, d1, d2 float64) {
	if l.atTheta == nil {
		l.atTheta = l.record()
	}
	l.Jets++
	_, s, h := l.tape.Jet(l.atTheta, l.params, l.dir, c)
	return ad.Scalar(l.atTheta), -s, h
}
