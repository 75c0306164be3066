package kernel

import (
	"fmt"
	"math"
	"unsafe"
)

// AdamStep holds the scalars of one Adam step for AdamDirection. It is an
// argument record, not a configuration: every field is used as given, the
// zero value included (GradScale 0 zeroes the gradient, Mult 0 the
// direction).
type AdamStep struct {
	Beta1, Beta2 float64 // β₁, β₂ in [0, 1): the moment decays
	Eps          float64 // ε > 0, added to √v̂
	T            int     // t ≥ 1: the step number after this update
	GradScale    float64 // c: multiplies the gradient (1, or a clipping factor)
	Coupled      float64 // λ_c: coupled (L2) weight decay, added to the gradient
	Decoupled    float64 // λ_d: decoupled weight decay, added to the direction
	Mult         float64 // a multiplier of the whole direction (1 by default in optim)
}

// AdamDirection advances Adam's moments by one step and writes the update
// direction, in one pass over the five arrays (Kingma & Ba, "Adam: A method
// for stochastic optimization", ICLR 2015, Algorithm 1; decoupled decay
// from Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR
// 2019, Algorithm 2). With s's scalars, for every i:
//
//	ĝ = c·g + λ_c·θ
//	m ← β₁·m + (1−β₁)·ĝ
//	v ← β₂·v + (1−β₂)·ĝ²
//	u = mult·( (m·inv₁) / (√v·inv₂ + ε) + λ_d·θ )
//
// with the bias corrections inv₁ = 1/(1−β₁ᵗ) and inv₂ = 1/√(1−β₂ᵗ) computed
// once in float64 and rounded to T, like every other scalar. A new m or v
// below the smallest normal T is stored as ±0 (flushSubnormal says why). The caller
// applies θ ← θ − α·u. All five slices have one length; u must not overlap
// the others, and m, v must not overlap g or θ.
//
// For float32 on amd64 the loop runs in assembly (AVX-512 or AVX2, chosen
// at start-up; see adamAVX512); its operations are those of the pure-Go
// twin adamGo in the same order, without fused multiply-adds, and √ and ÷
// are correctly rounded in both, so the two agree bit for bit (the tests
// allow a few ulps, in case a compiler fuses the Go loop).
func AdamDirection[T Float](u, m, v, g, theta []T, s AdamStep) {
	checkLen("AdamDirection", len(m), len(g))
	checkLen("AdamDirection", len(v), len(g))
	checkLen("AdamDirection", len(u), len(g))
	checkLen("AdamDirection", len(theta), len(g))
	if s.T < 1 {
		panic(fmt.Sprintf("kernel: AdamDirection: step T = %d, want ≥ 1", s.T))
	}
	k := newAdamCoeffs[T](s)
	if splitAdam(adamJob[T]{u: u, m: m, v: v, g: g, theta: theta, k: k}) {
		return
	}
	adamRun(u, m, v, g, theta, &k)
}

// adamRun is AdamDirection's loop on one thread: the vector kernel on the
// longest prefix of whole vectors, the Go twin on the rest.
func adamRun[T Float](u, m, v, g, theta []T, k *adamCoeffs[T]) {
	done := 0
	if unsafe.Sizeof(k.c) == 4 {
		done = adam32(asF32(u), asF32(m), asF32(v), asF32(g), asF32(theta), (*adamCoeffs[float32])(unsafe.Pointer(k)))
	}
	adamGo(u[done:], m[done:], v[done:], g[done:], theta[done:], k)
}

// adamSplitMin is the length per thread from which AdamDirection splits its
// loop over the GEMM pool (the MLP's 200 704 first-layer weights took 0.1 ms
// of a 0.6 ms step on one thread). adamBlock is the unit of the split, a
// multiple of every vector kernel's width, so that each element is computed
// by the same code (kernel or twin) whatever the thread count.
const (
	adamSplitMin = 1 << 15
	adamBlock    = 64
)

// adamJob is one AdamDirection call (u set) or AdamUpdate call (u nil:
// θ += α·u without u) split by ParallelFor over blocks of adamBlock
// elements.
type adamJob[T Float] struct {
	u, m, v, g, theta []T
	k                 adamCoeffs[T]
	alpha             T
}

// Range runs the blocks [lo, hi).
func (j *adamJob[T]) Range(_, lo, hi int) {
	a, b := lo*adamBlock, min(hi*adamBlock, len(j.g))
	if j.u == nil {
		adamUpdateRun(j.m[a:b], j.v[a:b], j.g[a:b], j.theta[a:b], &j.k, j.alpha)
		return
	}
	adamRun(j.u[a:b], j.m[a:b], j.v[a:b], j.g[a:b], j.theta[a:b], &j.k)
}

// splitAdam runs job over the GEMM pool's threads and reports true when it
// is long enough to split (adamSplitMin elements a thread); otherwise it
// does nothing and the caller runs the loop itself.
func splitAdam[T Float](job adamJob[T]) bool {
	parts := min(Threads(), len(job.g)/adamSplitMin)
	if parts <= 1 {
		return false
	}
	j := adamJobs[T]().get()
	*j = job
	ParallelFor((len(job.g)+adamBlock-1)/adamBlock, parts, j)
	*j = adamJob[T]{}
	adamJobs[T]().put(j)
	return true
}

// adamJobs returns the free list of adamJob[T], so that a split call
// allocates nothing in steady state.
func adamJobs[T Float]() *freeList[adamJob[T]] {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return any(&adamJobs32).(*freeList[adamJob[T]])
	}
	return any(&adamJobs64).(*freeList[adamJob[T]])
}

var (
	adamJobs32 = freeList[adamJob[float32]]{list: make(chan *adamJob[float32], 4)}
	adamJobs64 = freeList[adamJob[float64]]{list: make(chan *adamJob[float64], 4)}
)

// freeList recycles values of type E through a bounded channel.
type freeList[E any] struct{ list chan *E }

func (f *freeList[E]) get() *E {
	select {
	case e := <-f.list:
		return e
	default:
		return new(E)
	}
}

func (f *freeList[E]) put(e *E) {
	select {
	case f.list <- e:
	default:
	}
}

// adamCoeffs are the scalars of the fused Adam loop, rounded to T. The
// assembly reads the float32 instance at fixed offsets (4 bytes per field,
// in this order): keep the two in step.
type adamCoeffs[T Float] struct {
	c, cwd   T // gradient scale c, coupled decay λ_c
	b1, a1   T // β₁, 1−β₁
	b2, a2   T // β₂, 1−β₂
	inv1     T // 1/(1−β₁ᵗ)
	invSqrt2 T // 1/√(1−β₂ᵗ)
	eps      T // ε
	dwd      T // decoupled decay λ_d
	mult     T // direction multiplier
	tiny     T // the smallest normal T: a moment below it is flushed to ±0
}

func newAdamCoeffs[T Float](s AdamStep) adamCoeffs[T] {
	t := float64(s.T)
	return adamCoeffs[T]{
		c: T(s.GradScale), cwd: T(s.Coupled),
		b1: T(s.Beta1), a1: T(1 - s.Beta1),
		b2: T(s.Beta2), a2: T(1 - s.Beta2),
		inv1:     T(1 / (1 - math.Pow(s.Beta1, t))),
		invSqrt2: T(1 / math.Sqrt(1-math.Pow(s.Beta2, t))),
		eps:      T(s.Eps),
		dwd:      T(s.Decoupled),
		mult:     T(s.Mult),
		tiny:     smallestNormal[T](),
	}
}

// smallestNormal is the smallest positive normal T: 2⁻¹²⁶ for float32,
// 2⁻¹⁰²² for float64.
func smallestNormal[T Float]() T {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return T(0x1p-126)
	}
	return T(0x1p-1022)
}

// flushSubnormal returns x, or ±0 with x's sign where |x| is below tiny
// (a subnormal; NaN and ±Inf are kept). Adam's moments of a weight whose
// gradient stopped — a dead ReLU unit's, a pixel that is always 0 — decay
// geometrically through the subnormal range, where every multiplication by
// β costs a microcode assist: on this machine (AMD Zen 5),
// BenchmarkAdamUpdate over the MNIST MLP's 203 530 weights took 92 µs
// before the flush and 49 µs after, and with 5 % of the moments starting
// subnormal 79 and 48 µs (docs/perf.md). Flushing them, as the FTZ mode of
// the hardware would, changes a direction by less than 1e-30 relative.
func flushSubnormal[T Float](x, tiny T) T {
	if x < tiny && x > -tiny {
		return x * 0
	}
	return x
}

// adamGo is the reference loop of AdamDirection, the pure-Go twin of
// adamAVX512 and adamAVX2; the slices have one length.
func adamGo[T Float](u, m, v, g, theta []T, k *adamCoeffs[T]) {
	c, cwd, b1, a1, b2, a2 := k.c, k.cwd, k.b1, k.a1, k.b2, k.a2
	inv1, invSqrt2, eps, dwd, mult := k.inv1, k.invSqrt2, k.eps, k.dwd, k.mult
	u, m, v, g = u[:len(theta)], m[:len(theta)], v[:len(theta)], g[:len(theta)] // bounds-check hints
	for j, th := range theta {
		gj := c*g[j] + cwd*th
		mj := flushSubnormal(b1*m[j]+a1*gj, k.tiny)
		vj := flushSubnormal(b2*v[j]+a2*gj*gj, k.tiny)
		m[j], v[j] = mj, vj
		u[j] = mult * ((mj*inv1)/(T(math.Sqrt(float64(vj)))*invSqrt2+eps) + dwd*th)
	}
}
