package ad

import (
	"fmt"

	"github.com/genopt/gen/tensor"
)

// affineInLeaves marks primitives whose output is affine in their inputs
// except one, fixed, input: Linear and Conv2D are affine in (W, b) for a
// fixed x (input 0), Embedding is linear in its table (no fixed input: −1).
// When every input is a leaf and the fixed one does not move along the line
// θ + t·u, the output is exactly y + t·ẏ. (With x and W both moving the
// output is quadratic in t, and such a node is recomputed.)
type affineInLeaves interface{ affineInLeaves() (fixed int) }

// reluOfAffine marks primitives y = max(z, 0) whose pre-activation z is
// affine in their inputs as for affineInLeaves (Conv2DReLU without
// pooling): LineCache keeps z and ż and replays y(t) = max(z + t·ż, 0).
// ok is false for a recording that is not of that form (pooled).
type reluOfAffine[T Float] interface {
	reluOfAffine() (fixed int, ok bool)
	// preActivation writes z and its first tangent ż, each of y's shape.
	preActivation(y *Var[T], z, zdot *tensor.Tensor[T])
}

func (*linearOp[T]) affineInLeaves() int    { return 0 }
func (*conv2DOp[T]) affineInLeaves() int    { return 0 }
func (*embeddingOp[T]) affineInLeaves() int { return -1 }

// LineCache evaluates a recorded computation along a line in the
// parameters, f(θ + t·u), by replaying the tape: every primitive is
// recomputed from its inputs' new values, except those whose output is
// affine along the line — a Linear or Conv2D whose input is data (or a
// parameter that does not move) and whose weights are parameters, or an
// Embedding — which are updated as y(t) = y(0) + t·ẏ from their value and
// first tangent at θ (a Conv2DReLU without pooling on such an input as
// max(z(0) + t·ż, 0) from its pre-activation z). For a network whose first layer reads the
// data, that layer (usually the most expensive one) then costs one GEMM for
// the whole line instead of one per point, and stochastic primitives
// (dropout) reuse their recorded masks.
//
// The zero value is ready to use; its buffers are reused across Prepare
// calls, so probing a line every step does not allocate.
type LineCache[T Float] struct {
	tape *Tape[T]
	out  *Var[T]
	last int
	pos  []int // tape positions of the affine nodes, increasing
	// moving[k] is the index in params of the moving parameter of affine
	// node k, or -1 when several parameters move it (AtEach then
	// recomputes it unless they share one step).
	moving [][]int
	// v0[k] and dot[k] are the value and first tangent of affine node k,
	// or, where relu[k] is set, of its pre-activation (reluOfAffine).
	v0   []*tensor.Tensor[T]
	dot  []*tensor.Tensor[T]
	relu []bool
	// unread[j] reports that params[j] is read by affine nodes only, so
	// that At needs it neither moved nor restored (Unread).
	unread []bool
	ready  bool
}

// Prepare caches, for the scalar out recorded on t with the parameters at
// θ, the value and first tangent along dir (dir[i] has the shape of
// params[i]; unlisted parameters stay fixed) of every affine node. It
// costs one tangent product per affine node (a GEMM for a Linear layer).
// The tape must not be reset or re-recorded while the cache is in use.
func (c *LineCache[T]) Prepare(t *Tape[T], out *Var[T], params []*Var[T], dir []*tensor.Tensor[T]) {
	if len(params) != len(dir) {
		panic(fmt.Sprintf("ad: LineCache.Prepare: %d parameters but %d directions", len(params), len(dir)))
	}
	c.tape, c.out, c.last = t, out, t.index("LineCache.Prepare", out)
	c.pos = c.pos[:0]
	c.moving = c.moving[:0]
	for i, p := range params {
		if !tensor.SameShape(p.Value, dir[i]) {
			panic(fmt.Sprintf("ad: LineCache.Prepare: direction %d has shape %v, parameter %q has %v", i, dir[i].Shape(), p.Name, p.Value.Shape()))
		}
		p.d1, p.hasD1, p.hasD2 = dir[i], true, false
	}
	defer func() {
		for _, p := range params {
			p.d1, p.hasD1 = nil, false
		}
	}()
	k := 0
	c.relu = c.relu[:0]
	for i, v := range t.nodes[:c.last+1] {
		if v.op == nil {
			continue
		}
		fixed, relu := 0, false
		if a, ok := v.op.(affineInLeaves); ok {
			fixed = a.affineInLeaves()
		} else if a, ok := v.op.(reluOfAffine[T]); ok {
			if fixed, relu = a.reluOfAffine(); !relu {
				continue
			}
		} else {
			continue
		}
		leaves, moving := true, false
		for _, x := range v.in {
			leaves = leaves && x.op == nil
			moving = moving || x.hasD1
		}
		if !leaves || !moving || (fixed >= 0 && v.in[fixed].hasD1) {
			continue
		}
		if k == len(c.v0) {
			c.v0, c.dot = append(c.v0, &tensor.Tensor[T]{}), append(c.dot, &tensor.Tensor[T]{})
		}
		c.v0[k].Resize(v.Value.Shape()...)
		c.dot[k].Resize(v.Value.Shape()...)
		if relu {
			v.op.(reluOfAffine[T]).preActivation(v, c.v0[k], c.dot[k])
		} else {
			if v.d1 == nil {
				v.d1, v.d2 = &tensor.Tensor[T]{}, &tensor.Tensor[T]{}
			}
			v.d1.Resize(v.Value.Shape()...)
			v.d2.Resize(v.Value.Shape()...)
			v.op.Jet(v, false) // first tangent only: the inputs carry no second tangents
			v.hasD1, v.hasD2 = false, false
			tensor.Copy(c.v0[k], v.Value)
			tensor.Copy(c.dot[k], v.d1)
		}
		c.relu = append(c.relu, relu)
		c.pos = append(c.pos, i)
		if k == len(c.moving) {
			c.moving = append(c.moving, nil)
		}
		c.moving[k] = c.moving[k][:0]
		for _, x := range v.in {
			if x.hasD1 {
				for j, p := range params {
					if p == x {
						c.moving[k] = append(c.moving[k], j)
					}
				}
			}
		}
		k++
	}
	// A parameter that only cached nodes read is not read by At.
	c.unread = c.unread[:0]
	for range params {
		c.unread = append(c.unread, true)
	}
	k = 0
	for i, v := range t.nodes[:c.last+1] {
		if v.op == nil {
			continue
		}
		if k < len(c.pos) && c.pos[k] == i {
			k++
			continue
		}
		for _, x := range v.in {
			if x.op != nil || !x.hasD1 {
				continue // not a moving parameter (their d1 is set until Prepare returns)
			}
			for j, p := range params {
				if p == x {
					c.unread[j] = false
				}
			}
		}
	}
	c.ready = true
}

// Unread reports whether At leaves params[j] of Prepare unread: every node
// that reads it is an affine node updated from its cached value and
// tangent. A caller that moves the parameters to θ + t·u before At may skip
// those (AtEach may recompute an affine node, and reads them all).
func (c *LineCache[T]) Unread(j int) bool { return c.ready && c.unread[j] }

// At replays the tape at θ + t·u and returns the scalar out there, as
// Scalar would. The caller must have set the parameters to θ + t·u (At does
// not move them: the non-affine primitives read them). Recorded values are
// overwritten; At(0) with the parameters at θ restores them up to rounding.
func (c *LineCache[T]) At(t float64) float64 { return c.replay(t, nil) }

// AtEach replays the tape at θ + Σᵢ tᵢ·uᵢ, each parameter i of Prepare
// moved by its own step ts[i] along its direction, and returns the scalar
// out there. An affine node whose moving parameters share one step t
// (a layer whose weight and bias move together) is updated as
// y(0) + t·ẏ; any other is recomputed. The caller must have moved the
// parameters, as for At.
func (c *LineCache[T]) AtEach(ts []float64) float64 { return c.replay(0, ts) }

// replay is At(t) when ts is nil and AtEach(ts) otherwise.
func (c *LineCache[T]) replay(t float64, ts []float64) float64 {
	if !c.ready {
		panic("ad: LineCache used before Prepare")
	}
	tape := c.tape
	k := 0
	for i, v := range tape.nodes[:c.last+1] {
		if v.op == nil {
			continue
		}
		if k < len(c.pos) && c.pos[k] == i {
			shared := true
			if ts != nil {
				mv := c.moving[k]
				t = ts[mv[0]]
				for _, j := range mv[1:] {
					shared = shared && ts[j] == t
				}
			}
			k++
			if shared {
				tensor.Copy(v.Value, c.v0[k-1])
				if t != 0 {
					tensor.Axpy(v.Value, T(t), c.dot[k-1])
				}
				if c.relu[k-1] {
					y := v.Value.Data()
					for j, z := range y {
						y[j] = max(z, 0)
					}
				}
				continue
			}
		}
		v.op.Forward(v)
	}
	return Scalar(c.out)
}

// Affine returns how many primitives the cache updates without recomputing.
func (c *LineCache[T]) Affine() int { return len(c.pos) }
