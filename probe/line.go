package probe

import (
	"fmt"
	"math"

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
//
// The first evaluation records the objective at θ (a full forward pass,
// unless Reset was given the recording). Every further value g(α) replays
// that recording at θ − α·u (ad.LineCache): layers fed directly by data are
// moved along their cached tangent instead of recomputed, and dropout reuses
// the recorded masks, so all values of one line see the same randomness.
type Line[T ad.Float] struct {
	params []*ad.Var[T]
	dir    []*tensor.Tensor[T]
	saved  []*tensor.Tensor[T]

	tape     *ad.Tape[T]
	obj      Objective[T]
	out      *ad.Var[T]          // the loss recorded on tape for this line, or nil
	at       float64             // the α the tape's values are at
	g0       float64             // g(0), once out is recorded
	grads    []*tensor.Tensor[T] // ∇f at θ on this line's batch, when known
	cache    ad.LineCache[T]
	prepared bool

	group  []int               // group[i] is parameter i's group (SetGroups), or nil
	groups int                 // the number of groups
	steps  []float64           // per-parameter steps for AtGroups
	wdir   []*tensor.Tensor[T] // Σ wᵢ·uᵢ for JetGroups

	// Forwards, Replays and Jets count, since the line was made (not reset
	// by Reset), the full forward recordings, the replays along the line
	// (each cheaper than a forward: the data-fed layers are not
	// recomputed), and the jet sweeps.
	Forwards, Replays, Jets int
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
	l.tape, l.obj, l.out, l.grads, l.at, l.prepared = tape, obj, recorded, nil, 0, false
	if recorded != nil {
		l.g0 = ad.Scalar(recorded)
	}
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

// SetGroups splits the direction into k groups, u = Σᵢ uᵢ, parameter p
// belonging to group[p] ∈ [0, k): AtGroups and JetGroups then move each
// group by its own step. gen.Block uses this for per-layer rates.
func (l *Line[T]) SetGroups(group []int, k int) {
	if len(group) != len(l.params) {
		panic(fmt.Sprintf("probe: SetGroups: %d group indices for %d parameters", len(group), len(l.params)))
	}
	for p, g := range group {
		if g < 0 || g >= k {
			panic(fmt.Sprintf("probe: SetGroups: parameter %d in group %d, want [0, %d)", p, g, k))
		}
	}
	l.group, l.groups = group, k
	l.steps = make([]float64, len(l.params))
	l.wdir = make([]*tensor.Tensor[T], len(l.params))
	for i, d := range l.dir {
		l.wdir[i] = tensor.New[T](d.Shape()...)
	}
}

// Groups returns the number of groups (1 when SetGroups was not called).
func (l *Line[T]) Groups() int { return max(l.groups, 1) }

// AtGroups returns f(θ − Σᵢ αᵢ·uᵢ), each group i moved by its own
// alphas[i]; θ is restored bit for bit. It replays the recording as At does.
func (l *Line[T]) AtGroups(alphas []float64) float64 {
	if l.group == nil {
		if len(alphas) != 1 {
			panic(fmt.Sprintf("probe: AtGroups: %d steps for 1 group", len(alphas)))
		}
		return l.At(alphas[0])
	}
	if len(alphas) != l.groups {
		panic(fmt.Sprintf("probe: AtGroups: %d steps for %d groups", len(alphas), l.groups))
	}
	if l.out == nil {
		l.record()
	}
	if !l.prepared {
		l.cache.Prepare(l.tape, l.out, l.params, l.dir)
		l.prepared = true
	}
	nn.SaveTo(l.saved, l.params)
	for i, p := range l.params {
		a := alphas[l.group[i]]
		l.steps[i] = -a
		tensor.Axpy(p.Value, T(-a), l.dir[i])
	}
	v := l.cache.AtEach(l.steps)
	nn.Restore(l.params, l.saved)
	l.at = math.NaN() // off θ, and on no single line α·u
	l.Replays++
	return v
}

// JetGroups returns g(0), the derivative −∇f·v and the curvature vᵀHv
// (or vᵀGv) along v = Σᵢ wᵢ·uᵢ, by one jet sweep.
func (l *Line[T]) JetGroups(w []float64, c ad.Curvature) (g0, d1, d2 float64) {
	if l.group == nil {
		if len(w) != 1 {
			panic(fmt.Sprintf("probe: JetGroups: %d weights for 1 group", len(w)))
		}
		g0, d1, d2 = l.Jet(c)
		return g0, w[0] * d1, w[0] * w[0] * d2
	}
	if len(w) != l.groups {
		panic(fmt.Sprintf("probe: JetGroups: %d weights for %d groups", len(w), l.groups))
	}
	if l.out == nil {
		l.record()
	}
	if l.at != 0 {
		l.replay(0)
	}
	for i, d := range l.dir {
		tensor.Scale(l.wdir[i], d, T(w[l.group[i]]))
	}
	l.Jets++
	_, s, h := l.tape.Jet(l.out, l.params, l.wdir, c)
	return l.g0, -s, h
}

// record runs the objective on the tape at θ, drawing fresh dropout masks.
func (l *Line[T]) record() {
	if l.tape == nil {
		panic("probe: Line used before Reset")
	}
	old := l.tape.ReplayRandom
	l.tape.ReplayRandom = false
	l.tape.Reset()
	l.out = l.obj(l.tape)
	l.tape.ReplayRandom = old
	l.at, l.prepared, l.g0 = 0, false, ad.Scalar(l.out)
	l.Forwards++
}

// replay moves the tape's values to θ − α·u (a return to θ is not counted
// as a replay: it serves the jet, not the rule).
func (l *Line[T]) replay(alpha float64) float64 {
	if !l.prepared {
		l.cache.Prepare(l.tape, l.out, l.params, l.dir) // the tape is at θ here
		l.prepared = true
	}
	if alpha == 0 { // back to θ: the parameters are already there
		v := l.cache.At(0)
		l.at = 0
		return v
	}
	// The parameters that only the cache's affine nodes read (a first
	// layer fed by the data: most of an MLP's weights) stay at θ.
	for i, p := range l.params {
		if !l.cache.Unread(i) {
			tensor.Copy(l.saved[i], p.Value)
			tensor.Axpy(p.Value, T(-alpha), l.dir[i])
		}
	}
	v := l.cache.At(-alpha)
	for i, p := range l.params {
		if !l.cache.Unread(i) {
			tensor.Copy(p.Value, l.saved[i])
		}
	}
	l.at = alpha
	l.Replays++
	return v
}

// At returns g(α) = f(θ − α·u); θ is restored bit for bit.
func (l *Line[T]) At(alpha float64) float64 {
	if l.out == nil {
		l.record()
	}
	if alpha == 0 {
		return l.g0
	}
	return l.replay(alpha)
}

// Jet returns g(0), g'(0) = −∇f·u and g″(0) = uᵀHu (or uᵀGu) by one jet
// sweep over the forward at θ, recording it first if the tape does not
// hold it.
func (l *Line[T]) Jet(c ad.Curvature) (g0, d1, d2 float64) {
	if l.out == nil {
		l.record()
	}
	if l.at != 0 {
		l.replay(0) // back to θ: bit for bit the recorded values
	}
	l.Jets++
	_, s, h := l.tape.Jet(l.out, l.params, l.dir, c)
	return l.g0, -s, h
}
