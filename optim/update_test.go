package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/tensor"
)

// updaters returns Adam and AdamW configured with clipping, decay and a
// group multiplier, as Updaters.
func updaters[T tensor.Float]() []Updater[T] {
	groups := []Group{{Params: []int{1}, Scale: 0.5}}
	return []Updater[T]{
		NewAdam[T](AdamConfig{}),
		NewAdam[T](AdamConfig{Common: Common{ClipNorm: 0.5, WeightDecay: 0.01, Groups: groups}}),
		NewAdamW[T](AdamWConfig{}),
		NewAdamW[T](AdamWConfig{Common: Common{ClipNorm: 0.5, Groups: groups}, Beta1: 0.8}),
	}
}

// testUpdateSameBits runs two copies of each Updater on the same problem
// for five steps, one through Direction and tensor.Axpy(θ, −lr, u), the
// other through Update, and wants the same bits of θ and of the state.
func testUpdateSameBits[T tensor.Float](t *testing.T) {
	ref, fused := updaters[T](), updaters[T]()
	for k := range ref {
		a, b := newProblem[T](11), newProblem[T](11)
		for step := range 5 {
			lr := T(0.05 / float64(step+1))
			for _, p := range []*problem[T]{a, b} { // the same gradient for both
				for i, g := range p.grads {
					for j := range g.Data() {
						g.Data()[j] = p.params[i].Data()[j]*T(step+1) - T(j)
					}
				}
			}
			ref[k].Direction(a.u, a.params, a.grads)
			for i := range a.params {
				tensor.Axpy(a.params[i], -lr, a.u[i])
			}
			fused[k].Update(b.params, b.grads, lr)
			if got, want := flat(b.params), flat(a.params); !sameFloats(got, want) {
				t.Fatalf("%s (%d), step %d: θ = %v, want %v (Direction then Axpy)", ref[k].Name(), k, step, got, want)
			}
		}
		sa, sb := ref[k].State(), fused[k].State()
		if sa.Step != sb.Step || !sameFloats(slices.Concat(sb.Buffers["m"]...), slices.Concat(sa.Buffers["m"]...)) ||
			!sameFloats(slices.Concat(sb.Buffers["v"]...), slices.Concat(sa.Buffers["v"]...)) {
			t.Fatalf("%s (%d): the state after Update differs from Direction's", ref[k].Name(), k)
		}
	}
}

func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// TestUpdateSameBits: Update is Direction followed by θ ← θ − lr·u, bit for
// bit, moments included, in float32 and float64.
func TestUpdateSameBits(t *testing.T) {
	testUpdateSameBits[float32](t)
	testUpdateSameBits[float64](t)
}

// TestUpdateMisusePanics: Update checks its arguments as Direction does.
func TestUpdateMisusePanics(t *testing.T) {
	mk := func(shapes ...[]int) []*tensor.Tensor[float32] {
		var ts []*tensor.Tensor[float32]
		for _, s := range shapes {
			ts = append(ts, tensor.New[float32](s...))
		}
		return ts
	}
	cases := []struct {
		name string
		run  func(o Updater[float32])
		want string
	}{
		{"count", func(o Updater[float32]) { o.Update(mk([]int{2, 3}, []int{3}), mk([]int{2, 3}), 0.1) }, "Update: got 2 parameters, 1 gradients"},
		{"grad shape", func(o Updater[float32]) { o.Update(mk([]int{2, 3}), mk([]int{3, 2}), 0.1) }, "Update: parameter 0: shapes param [2 3], grad [3 2]"},
	}
	for _, c := range cases {
		for _, o := range []Updater[float32]{NewAdam[float32](AdamConfig{}), NewAdamW[float32](AdamWConfig{})} {
			if msg := panicMessage(func() { c.run(o) }); !strings.HasPrefix(msg, "optim: "+o.Name()) || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %s: panic %q, want one containing %q", o.Name(), c.name, msg, c.want)
			}
		}
	}
}
