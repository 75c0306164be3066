package kernel

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The assembly vector kernels (Axpy, Dot, the fused Adam step) are tested
// against their pure-Go twins on every instruction set this CPU runs, on
// random lengths with odd tails, inside NaN guard bands that catch reads
// and writes out of bounds. Under the purego tag, or on a CPU without AVX2,
// there is nothing to compare and these tests skip; the twins themselves
// are checked against independent oracles (TestAdamDirection,
// TestAdamFloat32Oracle, TestAxpyDotOracle).

// f32Eps is the float32 relative rounding step 2⁻²³ (one ulp at 1).
const f32Eps = 0x1p-23

// tolULPs is the tolerance of an assembly kernel against its twin, in
// float32 ulps of the magnitude of the terms summed (see close32). The
// kernels perform the twin's operations in the same order without fused
// multiply-adds, so at GOAMD64=v1 they agree bit for bit; the slack covers
// a compiler that fuses the Go loop (one rounding fewer per a·b+c, a few
// per element).
const tolULPs = 4

// guardLen is the number of sentinel elements on each side of every slice.
const guardLen = 19

// sentinel is a NaN with a recognisable payload, written into the guard
// bands: reading one poisons a result, writing one is seen by checkGuards.
var sentinelBits uint32 = 0x7fc0dead

// guarded returns a slice of n elements filled by fill, inside a buffer
// whose other elements (at least guardLen each side, and a random shift that
// varies the alignment) hold the sentinel.
func guarded(r *rand.Rand, n int, fill func(i int) float32) (s, buf []float32) {
	shift := r.IntN(16)
	buf = make([]float32, n+2*guardLen+16)
	for i := range buf {
		buf[i] = math.Float32frombits(sentinelBits)
	}
	s = buf[guardLen+shift : guardLen+shift+n : guardLen+shift+n]
	for i := range s {
		s[i] = fill(i)
	}
	return s, buf
}

// checkGuards fails if any element of buf outside s lost the sentinel.
func checkGuards(t testing.TB, what string, s, buf []float32) {
	t.Helper()
	off := 0
	for off < len(buf) && (len(s) == 0 || &buf[off] != &s[0]) {
		if len(s) == 0 {
			break
		}
		off++
	}
	for i, x := range buf {
		if len(s) > 0 && i >= off && i < off+len(s) {
			continue
		}
		if math.Float32bits(x) != sentinelBits {
			t.Fatalf("%s: guard element %d (slice at %d, length %d) overwritten with %v", what, i, off, len(s), x)
		}
	}
}

// close32 reports whether got is within tolULPs float32 ulps of want, the
// ulp measured at scale (the sum of the magnitudes of the terms that make
// up the result, so cancellation does not shrink the tolerance below the
// rounding of the terms). NaN must match NaN; infinities and non-finite
// scales must match exactly.
func close32(got, want float32, scale float64) bool {
	g, w := float64(got), float64(want)
	switch {
	case math.IsNaN(w):
		return math.IsNaN(g)
	case math.IsInf(w, 0) || math.IsNaN(scale) || math.IsInf(scale, 0):
		return g == w
	}
	return math.Abs(g-w) <= tolULPs*(f32Eps*scale+0x1p-149)
}

// randVal draws a value of random sign and magnitude over about six
// decades, with exact zeros one time in ten.
func randVal(r *rand.Rand) float32 {
	if r.IntN(10) == 0 {
		return 0
	}
	x := float32(math.Exp(r.Float64()*14-7) * float64(1-2*r.IntN(2)))
	return x
}

func testLengths(r *rand.Rand) []int {
	ls := []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000}
	for range 20 {
		ls = append(ls, r.IntN(1001))
	}
	return ls
}

func TestAxpyAsm(t *testing.T) {
	impls := vecImpls()
	if len(impls) == 0 {
		t.Skip("no assembly vector kernels in this build or on this CPU")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, im := range impls {
		for _, n := range testLengths(r) {
			alpha := randVal(r)
			x, xb := guarded(r, n, func(int) float32 { return randVal(r) })
			y, yb := guarded(r, n, func(int) float32 { return randVal(r) })
			want := append([]float32(nil), y...)
			axpyGo(alpha, x, want)
			done := im.axpy32(alpha, x, y)
			axpyGo(alpha, x[done:], y[done:])
			checkGuards(t, im.name+" axpy x", x, xb)
			checkGuards(t, im.name+" axpy y", y, yb)
			for i := range y {
				scale := math.Abs(float64(want[i]-alpha*x[i])) + math.Abs(float64(alpha*x[i]))
				if !close32(y[i], want[i], scale) {
					t.Fatalf("%s: Axpy n=%d alpha=%v: y[%d] = %v, want %v (x %v)", im.name, n, alpha, i, y[i], want[i], x[i])
				}
			}
		}
	}
}

// dotTol is the bound on the difference of two float64 sums of the same n
// exact products in different orders: each is within (n−1)·2⁻⁵³·Σ|x·y| of
// the exact sum (Higham, Accuracy and Stability of Numerical Algorithms,
// 2nd ed., eq. 4.4), so twice that apart at most.
func dotTol(x, y []float32) float64 {
	var abs float64
	for i := range x {
		abs += math.Abs(float64(x[i]) * float64(y[i]))
	}
	return 2 * float64(len(x)) * 0x1p-53 * abs
}

func TestDotAsm(t *testing.T) {
	impls := vecImpls()
	if len(impls) == 0 {
		t.Skip("no assembly vector kernels in this build or on this CPU")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, im := range impls {
		for _, n := range testLengths(r) {
			x, xb := guarded(r, n, func(int) float32 { return randVal(r) })
			y, yb := guarded(r, n, func(int) float32 { return randVal(r) })
			want := dotGo(x, y)
			s, done := im.dot32(x, y)
			got := s + dotGo(x[done:], y[done:])
			if done == 0 {
				got = dotGo(x, y)
			}
			checkGuards(t, im.name+" dot x", x, xb)
			checkGuards(t, im.name+" dot y", y, yb)
			if d := math.Abs(got - want); !(d <= dotTol(x, y)) {
				t.Fatalf("%s: Dot n=%d = %v, want %v (difference %g, tolerance %g)", im.name, n, got, want, d, dotTol(x, y))
			}
		}
	}
}

// adamCase draws the coefficients of one Adam step: the usual β's, a step
// count from 1 to 1000, and (half the time each) clipping, coupled decay,
// decoupled decay and a multiplier other than one.
func adamCase(r *rand.Rand) AdamStep {
	s := AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 1 + r.IntN(1000), GradScale: 1, Mult: 1}
	if r.IntN(2) == 0 {
		s.Beta1, s.Beta2 = r.Float64(), r.Float64()
	}
	if r.IntN(2) == 0 {
		s.GradScale = r.Float64()
	}
	if r.IntN(2) == 0 {
		s.Coupled = r.Float64() * 0.1
	}
	if r.IntN(2) == 0 {
		s.Decoupled = r.Float64() * 0.1
	}
	if r.IntN(2) == 0 {
		s.Mult = r.Float64() * 2
	}
	return s
}

// adamScales returns the magnitudes against which element i of m, v and u
// is compared (see close32), from the inputs m0, v0, g, θ and the twin's
// results m, v.
func adamScales(k *adamCoeffs[float32], m0, v0, g, th, m, v float32) (sm, sv, su float64) {
	f := func(x float32) float64 { return math.Abs(float64(x)) }
	gh := f(k.c)*f(g) + f(k.cwd)*f(th)
	sm = f(k.b1)*f(m0) + f(k.a1)*gh
	sv = f(k.b2)*f(v0) + f(k.a2)*gh*gh
	den := math.Sqrt(f(v))*f(k.invSqrt2) + f(k.eps)
	su = f(k.mult) * (f(m)*f(k.inv1)/den + f(k.dwd)*f(th))
	return sm, sv, su
}

// runAdamImpl runs one implementation over whole slices, tail included.
func runAdamImpl(im *vecImpl, u, m, v, g, th []float32, k *adamCoeffs[float32]) {
	done := im.adam32(u, m, v, g, th, k)
	adamGo(u[done:], m[done:], v[done:], g[done:], th[done:], k)
}

// compareAdam checks an implementation's m, v, u against the twin's.
func compareAdam(t testing.TB, what string, k *adamCoeffs[float32], m0, v0, g, th, m, v, u, wm, wv, wu []float32) {
	t.Helper()
	for i := range u {
		sm, sv, su := adamScales(k, m0[i], v0[i], g[i], th[i], wm[i], wv[i])
		if !close32(m[i], wm[i], sm) || !close32(v[i], wv[i], sv) || !close32(u[i], wu[i], su) {
			t.Fatalf("%s, i=%d (g %v, θ %v, m %v, v %v; coefficients %+v): got m %v v %v u %v, want %v %v %v",
				what, i, g[i], th[i], m0[i], v0[i], *k, m[i], v[i], u[i], wm[i], wv[i], wu[i])
		}
	}
}

func TestAdamAsm(t *testing.T) {
	impls := vecImpls()
	if len(impls) == 0 {
		t.Skip("no assembly vector kernels in this build or on this CPU")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, im := range impls {
		for _, n := range testLengths(r) {
			s := adamCase(r)
			k := newAdamCoeffs[float32](s)
			g, gb := guarded(r, n, func(int) float32 { return randVal(r) })
			th, tb := guarded(r, n, func(int) float32 { return randVal(r) })
			m, mb := guarded(r, n, func(int) float32 { return randVal(r) })
			v, vb := guarded(r, n, func(int) float32 { x := randVal(r); return x * x })
			u, ub := guarded(r, n, func(int) float32 { return float32(math.NaN()) })
			m0, v0 := append([]float32(nil), m...), append([]float32(nil), v...)
			wm, wv, wu := append([]float32(nil), m...), append([]float32(nil), v...), make([]float32, n)
			adamGo(wu, wm, wv, g, th, &k)
			runAdamImpl(im, u, m, v, g, th, &k)
			for _, c := range []struct {
				name   string
				s, buf []float32
			}{{"g", g, gb}, {"θ", th, tb}, {"m", m, mb}, {"v", v, vb}, {"u", u, ub}} {
				checkGuards(t, fmt.Sprintf("%s adam n=%d %s", im.name, n, c.name), c.s, c.buf)
			}
			compareAdam(t, fmt.Sprintf("%s: Adam n=%d", im.name, n), &k, m0, v0, g, th, m, v, u, wm, wv, wu)
		}
	}
}

// TestAdamFloat32Oracle checks the float32 AdamDirection (assembly where
// available) against the step computed in float64: m and v from the same
// float32 inputs, u from the kernel's m and v. Tolerance: each of m, v and
// u goes through at most ten float32 roundings, each within half an ulp of
// the magnitude of the terms, and the float64 values are exact to far
// below that, so 16 float32 ulps of that magnitude (close32's measure,
// times 4) bound the difference.
func TestAdamFloat32Oracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 17, 203, 1000} {
		s := adamCase(r)
		g, th, m, v, u := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range g {
			g[i], th[i], m[i] = randVal(r), randVal(r), randVal(r)
			v[i] = randVal(r) * randVal(r)
			v[i] *= v[i]
		}
		m64, v64, u64 := make([]float64, n), make([]float64, n), make([]float64, n)
		g64, th64 := make([]float64, n), make([]float64, n)
		for i := range g {
			m64[i], v64[i], g64[i], th64[i] = float64(m[i]), float64(v[i]), float64(g[i]), float64(th[i])
		}
		k := newAdamCoeffs[float32](s)
		m0, v0 := append([]float32(nil), m...), append([]float32(nil), v...)
		AdamDirection(u, m, v, g, th, s)
		// The oracle: the formula in float64 on the float32-rounded
		// coefficients the kernel uses.
		k64 := adamCoeffs[float64]{
			c: float64(k.c), cwd: float64(k.cwd), b1: float64(k.b1), a1: float64(k.a1), b2: float64(k.b2), a2: float64(k.a2),
			inv1: float64(k.inv1), invSqrt2: float64(k.invSqrt2), eps: float64(k.eps), dwd: float64(k.dwd), mult: float64(k.mult),
		}
		for i := range g {
			gh := k64.c*g64[i] + k64.cwd*th64[i]
			m64[i] = k64.b1*m64[i] + k64.a1*gh
			v64[i] = k64.b2*v64[i] + k64.a2*gh*gh
			// u from the kernel's own m and v, so that the check of u
			// does not inherit their rounding, amplified where ĝ or m
			// cancel.
			mk, vk := float64(m[i]), float64(v[i])
			u64[i] = k64.mult * (mk*k64.inv1/(math.Sqrt(vk)*k64.invSqrt2+k64.eps) + k64.dwd*th64[i])
			sm, sv, su := adamScales(&k, m0[i], v0[i], g[i], th[i], m[i], v[i])
			for _, c := range []struct {
				name      string
				got, want float64
				scale     float64
			}{{"m", float64(m[i]), m64[i], sm}, {"v", float64(v[i]), v64[i], sv}, {"u", float64(u[i]), u64[i], su}} {
				if d := math.Abs(c.got - c.want); !(d <= 4*tolULPs*(f32Eps*c.scale+0x1p-149)) {
					t.Fatalf("n=%d i=%d %+v: %s = %v, float64 oracle %v (difference %g)", n, i, s, c.name, c.got, c.want, d)
				}
			}
		}
	}
}

// TestAxpyDotOracle checks Axpy and Dot on float32 (assembly where
// available) against closed forms: with x[i] = i+1 and y = 1, Dot = n(n+1)/2
// exactly (every partial sum is an integer below 2⁵³), and Axpy with α = 2
// on small integers is exact in float32.
func TestAxpyDotOracle(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 100, 1001} {
		x, y := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(i+1), 1
		}
		if got, want := Dot(x, y), float64(n*(n+1)/2); got != want {
			t.Fatalf("Dot(1..%d, 1) = %v, want %v", n, got, want)
		}
		Axpy(2, x, y)
		for i := range y {
			if want := float32(2*(i+1) + 1); y[i] != want {
				t.Fatalf("Axpy(2, 1..%d, 1): y[%d] = %v, want %v", n, i, y[i], want)
			}
		}
	}
}

// fuzzAdamArgs splits a fuzzer's bytes into k float32 arrays of equal
// length (any bit pattern), and turns its other inputs into α and an Adam
// step: flags bit 0 scales the gradient, bit 1 adds coupled and bit 2
// decoupled weight decay; the callers read the higher bits.
func fuzzAdamArgs(data []byte, k int, alphaBits uint32, step uint16, flags uint8) ([][]float32, float32, AdamStep) {
	n := len(data) / (4 * k)
	arr := make([][]float32, k)
	for a := range arr {
		arr[a] = make([]float32, n)
		for i := range n {
			arr[a][i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(a*n+i):]))
		}
	}
	s := AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 1 + int(step), GradScale: 1, Mult: 1}
	if flags&1 != 0 {
		s.GradScale = 0.25
	}
	if flags&2 != 0 {
		s.Coupled = 0.01
	}
	if flags&4 != 0 {
		s.Decoupled = 0.1
	}
	return arr, math.Float32frombits(alphaBits), s
}

// FuzzVecKernels runs every assembly vector kernel and its twin on
// arbitrary float32 bit patterns (NaN, infinities and subnormals included)
// split into five arrays, with alpha and the Adam scalars from the fuzzer.
func FuzzVecKernels(f *testing.F) {
	f.Add([]byte{}, uint32(0x3f800000), uint16(1), uint8(0))
	seed := make([]byte, 4*5*37)
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < len(seed); i += 4 {
		binary.LittleEndian.PutUint32(seed[i:], math.Float32bits(randVal(r)))
	}
	f.Add(seed, uint32(0xbf000000), uint16(17), uint8(0x1f))
	impls := vecImpls()
	f.Fuzz(func(t *testing.T, data []byte, alphaBits uint32, step uint16, flags uint8) {
		if len(impls) == 0 {
			t.Skip("no assembly vector kernels in this build or on this CPU")
		}
		arr, alpha, s := fuzzAdamArgs(data, 5, alphaBits, step, flags)
		n := len(arr[0])
		if flags&8 != 0 {
			s.Mult = float64(alpha)
		}
		if flags&16 != 0 {
			s.Beta1, s.Beta2 = 0, 0.5
		}
		k := newAdamCoeffs[float32](s)
		for _, im := range impls {
			x, y := arr[0], append([]float32(nil), arr[1]...)
			want := append([]float32(nil), y...)
			axpyGo(alpha, x, want)
			done := im.axpy32(alpha, x, y)
			axpyGo(alpha, x[done:], y[done:])
			for i := range y {
				scale := math.Abs(float64(want[i]-alpha*x[i])) + math.Abs(float64(alpha*x[i]))
				if !close32(y[i], want[i], scale) {
					t.Fatalf("%s: Axpy alpha=%v: y[%d] = %v, want %v", im.name, alpha, i, y[i], want[i])
				}
			}

			wd := dotGo(arr[0], arr[1])
			gd, done := im.dot32(arr[0], arr[1])
			if done > 0 {
				gd += dotGo(arr[0][done:], arr[1][done:])
			} else {
				gd = wd
			}
			if math.IsNaN(wd) || math.IsInf(wd, 0) {
				if !(math.IsNaN(gd) == math.IsNaN(wd) && (math.IsNaN(wd) || gd == wd)) {
					t.Fatalf("%s: Dot = %v, want %v", im.name, gd, wd)
				}
			} else if d := math.Abs(gd - wd); !(d <= dotTol(arr[0], arr[1])) {
				t.Fatalf("%s: Dot = %v, want %v (difference %g)", im.name, gd, wd, d)
			}

			g, th := arr[0], arr[1]
			m, v, u := append([]float32(nil), arr[2]...), append([]float32(nil), arr[3]...), make([]float32, n)
			wm, wv, wu := append([]float32(nil), arr[2]...), append([]float32(nil), arr[3]...), make([]float32, n)
			adamGo(wu, wm, wv, g, th, &k)
			runAdamImpl(im, u, m, v, g, th, &k)
			compareAdam(t, im.name+": Adam", &k, arr[2], arr[3], g, th, m, v, u, wm, wv, wu)
		}
	})
}

// BenchmarkVec times the vector kernels on the size of the MLP's
// parameters (203 530), the assembly set this CPU runs against the pure-Go
// twin:
//
//	go test -run NONE -bench Vec -benchtime 200x ./internal/kernel/
func BenchmarkVec(b *testing.B) {
	const n = 784*256 + 256 + 256*10 + 10
	r := rand.New(rand.NewPCG(11, 12))
	mk := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = randVal(r)
		}
		return s
	}
	x, y, g, th, m, u := mk(), mk(), mk(), mk(), mk(), mk()
	v := mk()
	for i := range v {
		v[i] *= v[i]
	}
	k := newAdamCoeffs[float32](AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 10, GradScale: 1, Mult: 1})
	type impl struct {
		name string
		im   *vecImpl
	}
	impls := []impl{{"go", nil}}
	for _, im := range vecImpls() {
		impls = append(impls, impl{im.name, im})
	}
	for _, im := range impls {
		b.Run("Axpy/"+im.name, func(b *testing.B) {
			b.SetBytes(3 * 4 * n)
			b.ReportAllocs()
			for b.Loop() {
				done := 0
				if im.im != nil {
					done = im.im.axpy32(1e-30, x, y)
				}
				axpyGo(1e-30, x[done:], y[done:])
			}
		})
		b.Run("Dot/"+im.name, func(b *testing.B) {
			b.SetBytes(2 * 4 * n)
			b.ReportAllocs()
			var s float64
			for b.Loop() {
				done := 0
				if im.im != nil {
					s, done = im.im.dot32(x, y)
				}
				s += dotGo(x[done:], y[done:])
			}
			_ = s
		})
		b.Run("Adam/"+im.name, func(b *testing.B) {
			b.SetBytes(7 * 4 * n)
			b.ReportAllocs()
			for b.Loop() {
				done := 0
				if im.im != nil {
					done = im.im.adam32(u, m, v, g, th, &k)
				}
				adamGo(u[done:], m[done:], v[done:], g[done:], th[done:], &k)
			}
		})
	}
}

// TestVecNoAllocs checks that the dispatching Axpy, Dot and AdamDirection
// allocate nothing (the Adam coefficients stay on the stack).
func TestVecNoAllocs(t *testing.T) {
	n := 1000
	x, y, u, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	s := AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 1, GradScale: 1, Mult: 1}
	var sink float64
	if a := testing.AllocsPerRun(10, func() {
		Axpy(0.5, x, y)
		sink += Dot(x, y)
		AdamDirection(u, m, v, x, y, s)
	}); a != 0 {
		t.Fatalf("Axpy, Dot, AdamDirection: %v allocations per call, want 0", a)
	}
	_ = sink
}

// TestAdamSplitSameBits: AdamDirection split over 2 and 3 threads (a
// length above the split threshold, with a tail no vector covers) gives the
// bits of one thread, in float32 and float64.
func TestAdamSplitSameBits(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(7, 8))
	n := 3*adamSplitMin + 37
	run := func(threads int, g, th, m0, v0 []float32) (m, v, u []float32) {
		SetThreads(threads)
		m, v, u = append([]float32(nil), m0...), append([]float32(nil), v0...), make([]float32, n)
		AdamDirection(u, m, v, g, th, adamCase(r0()))
		return m, v, u
	}
	g, th, m0, v0 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		g[i], th[i], m0[i] = randVal(r), randVal(r), randVal(r)
		x := randVal(r)
		v0[i] = x * x
	}
	m1, v1, u1 := run(1, g, th, m0, v0)
	for _, threads := range []int{2, 3} {
		m, v, u := run(threads, g, th, m0, v0)
		for i := range n {
			if math.Float32bits(m[i]) != math.Float32bits(m1[i]) || math.Float32bits(v[i]) != math.Float32bits(v1[i]) || math.Float32bits(u[i]) != math.Float32bits(u1[i]) {
				t.Fatalf("%d threads, element %d: m %v v %v u %v, one thread %v %v %v", threads, i, m[i], v[i], u[i], m1[i], v1[i], u1[i])
			}
		}
	}
	g64, th64, m64, v64 := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		g64[i], th64[i], m64[i], v64[i] = float64(g[i]), float64(th[i]), float64(m0[i]), float64(v0[i])
	}
	var want []float64
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		m, v, u := append([]float64(nil), m64...), append([]float64(nil), v64...), make([]float64, n)
		AdamDirection(u, m, v, g64, th64, adamCase(r0()))
		if threads == 1 {
			want = u
		} else if !slices.Equal(u, want) {
			t.Fatalf("float64: 2 threads differ from one")
		}
	}
}

// r0 is a fixed generator, so that adamCase gives every call of a test the
// same step.
func r0() *rand.Rand { return rand.New(rand.NewPCG(9, 9)) }
