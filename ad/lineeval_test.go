package ad

import (
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/tensor"
)

func randT(r *rand.Rand, shape ...int) *tensor.Tensor[float64] {
	x := tensor.New[float64](shape...)
	for i := range x.Data() {
		x.Data()[i] = r.NormFloat64()
	}
	return x
}

// lineFixture is a two-layer network whose first layer reads the data
// (affine along the line) and whose hidden units pass through dropout, one
// batch, a random direction, and the function that records its loss.
func lineFixture(r *rand.Rand) ([]*Var[float64], []*tensor.Tensor[float64], *Tape[float64], func() *Var[float64]) {
	x := randT(r, 6, 5)
	labels := []int{0, 2, 1, 1, 0, 2}
	w1, b1 := NewParam("w1", randT(r, 7, 5)), NewParam("b1", randT(r, 7))
	w2, b2 := NewParam("w2", randT(r, 3, 7)), NewParam("b2", randT(r, 3))
	params := []*Var[float64]{w1, b1, w2, b2}
	dir := []*tensor.Tensor[float64]{randT(r, 7, 5), randT(r, 7), randT(r, 3, 7), randT(r, 3)}
	tape := &Tape[float64]{Train: true, Rand: rand.New(rand.NewPCG(1, 1))}
	record := func() *Var[float64] {
		tape.Reset()
		h := Dropout(tape, Activate(tape, Linear(tape, tape.Const(x), w1, b1), Act{Kind: Tanh}), 0.3)
		return SoftmaxCrossEntropy(tape, Linear(tape, h, w2, b2), labels)
	}
	return params, dir, tape, record
}

// The replayed line equals a fresh recording at θ + t·u, for a network
// whose first layer reads the data (affine, cached) and whose second does
// not (recomputed), with dropout replaying its mask.
func TestLineCacheMatchesRecording(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	params, dir, tape, record := lineFixture(r)
	out := record()
	var c LineCache[float64]
	c.Prepare(tape, out, params, dir)
	if c.Affine() != 1 {
		t.Fatalf("%d affine nodes, want 1 (the first Linear)", c.Affine())
	}
	move := func(s float64) {
		for i, p := range params {
			tensor.Axpy(p.Value, s, dir[i])
		}
	}
	for _, s := range []float64{0.1, -0.05, 0, 1.5} {
		move(s)
		got := c.At(s)
		tape.ReplayRandom = true
		want := Scalar(record())
		tape.ReplayRandom = false
		move(-s)
		// Same arithmetic up to the order of the first layer's sums
		// (x·(W + sV)ᵀ against x·Wᵀ + s·x·Vᵀ): rounding only.
		if numcheck.Rel(got, want, 1e-12) > 1e-12 {
			t.Fatalf("t = %g: replay %v, recording %v", s, got, want)
		}
		// The recording changed the tape: record again at θ, with the
		// same mask, and prepare again.
		tape.ReplayRandom = true
		out = record()
		tape.ReplayRandom = false
		c.Prepare(tape, out, params, dir)
	}
}

// A Linear whose input and weight both move is quadratic along the line:
// it must be recomputed, not moved along its tangent.
func TestLineCacheBilinearIsRecomputed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	p, w := NewParam("p", randT(r, 4, 3)), NewParam("w", randT(r, 2, 3))
	target := randT(r, 4, 2)
	params := []*Var[float64]{p, w}
	dir := []*tensor.Tensor[float64]{randT(r, 4, 3), randT(r, 2, 3)}
	tape := &Tape[float64]{}
	record := func() *Var[float64] {
		tape.Reset()
		return MeanSquaredError(tape, Linear(tape, p, w, nil), target)
	}
	out := record()
	var c LineCache[float64]
	c.Prepare(tape, out, params, dir)
	if c.Affine() != 0 {
		t.Fatalf("%d affine nodes, want 0: x·Wᵀ with both moving is not affine", c.Affine())
	}
	const s = 0.7
	for i, q := range params {
		tensor.Axpy(q.Value, s, dir[i])
	}
	got := c.At(s)
	want := Scalar(record())
	if numcheck.Rel(got, want, 1e-12) > 1e-12 {
		t.Fatalf("replay %v, recording %v", got, want)
	}
}

// AtEach, each parameter moved by its own step, equals a fresh recording at
// θ + Σ tᵢ·uᵢ, both when the first layer's weight and bias share a step
// (cached) and when they do not (recomputed).
func TestLineCacheAtEachMatchesRecording(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	params, dir, tape, record := lineFixture(r)
	out := record()
	var c LineCache[float64]
	c.Prepare(tape, out, params, dir)
	move := func(ts []float64, sign float64) {
		for i, p := range params {
			tensor.Axpy(p.Value, sign*ts[i], dir[i])
		}
	}
	for _, ts := range [][]float64{{0.1, 0.1, -0.3, -0.3}, {0.2, -0.1, 0.05, 0.4}, {0, 0, 0.7, 0.7}} {
		move(ts, 1)
		got := c.AtEach(ts)
		tape.ReplayRandom = true
		want := Scalar(record())
		tape.ReplayRandom = false
		move(ts, -1)
		if numcheck.Rel(got, want, 1e-12) > 1e-12 {
			t.Fatalf("steps %v: replay %v, recording %v", ts, got, want)
		}
		tape.ReplayRandom = true
		out = record()
		tape.ReplayRandom = false
		c.Prepare(tape, out, params, dir)
	}
}

// Unread names the parameters that only cached affine nodes read (the
// first layer's, fed by the data): At with only the others moved equals a
// fresh recording with all of them moved. A parameter that a recomputed
// node also reads is read.
func TestLineCacheUnread(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	params, dir, tape, record := lineFixture(r)
	out := record()
	var c LineCache[float64]
	c.Prepare(tape, out, params, dir)
	want := []bool{true, true, false, false} // w1, b1 cached; w2, b2 recomputed
	for j, w := range want {
		if c.Unread(j) != w {
			t.Errorf("Unread(%d) (%s) = %v, want %v", j, params[j].Name, c.Unread(j), w)
		}
	}
	const s = 0.3
	for j, p := range params {
		if !c.Unread(j) {
			tensor.Axpy(p.Value, s, dir[j])
		}
	}
	got := c.At(s)
	for j, p := range params {
		if c.Unread(j) {
			tensor.Axpy(p.Value, s, dir[j])
		}
	}
	tape.ReplayRandom = true
	wantV := Scalar(record())
	if numcheck.Rel(got, wantV, 1e-12) > 1e-12 {
		t.Fatalf("replay with the unread parameters at θ: %v, recording at θ + t·u: %v", got, wantV)
	}

	// The same weight read twice, by a cached node (its input is data) and
	// by a recomputed one (its input moves), is read.
	x, target := randT(r, 4, 3), randT(r, 4, 3)
	w := NewParam("w", randT(r, 3, 3))
	tape2 := &Tape[float64]{}
	h := Activate(tape2, Linear(tape2, tape2.Const(x), w, nil), Act{Kind: Tanh})
	out2 := MeanSquaredError(tape2, Linear(tape2, h, w, nil), target)
	var c2 LineCache[float64]
	c2.Prepare(tape2, out2, []*Var[float64]{w}, []*tensor.Tensor[float64]{randT(r, 3, 3)})
	if c2.Affine() != 1 || c2.Unread(0) {
		t.Errorf("a weight read by a cached and a recomputed node: %d affine nodes, Unread %v; want 1, false", c2.Affine(), c2.Unread(0))
	}
}
