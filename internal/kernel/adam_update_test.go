package kernel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// adamThenAxpy is AdamUpdate's definition: AdamDirection into a buffer,
// then Axpy(α, u, θ). It returns the updated copies of m, v and θ.
func adamThenAxpy[T Float](m0, v0, g, th0 []T, s AdamStep, alpha T) (m, v, th []T) {
	m, v, th = append([]T(nil), m0...), append([]T(nil), v0...), append([]T(nil), th0...)
	u := make([]T, len(g))
	AdamDirection(u, m, v, g, th, s)
	Axpy(alpha, u, th)
	return m, v, th
}

// firstBitDiff returns the first index where a and b differ in their
// bits, or −1. Any two NaNs count as equal: which payload an operation on
// two NaNs keeps is the hardware's choice, not a result.
func firstBitDiff[T Float](a, b []T) int {
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
			return i
		}
	}
	return -1
}

// adamInputs draws n elements of g, θ, m and v ≥ 0 with randVal's spread,
// exact zeros included.
func adamInputs(r *rand.Rand, n int) (g, th, m, v []float32) {
	g, th, m, v = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		g[i], th[i], m[i] = randVal(r), randVal(r), randVal(r)
		x := randVal(r)
		v[i] = x * x
	}
	return g, th, m, v
}

// TestAdamUpdate: AdamUpdate gives the bits of AdamDirection followed by
// Axpy — m, v and θ — on every length (tails no vector covers included),
// with random coefficients (clipping, both decays, a multiplier), in
// float32 (the fused kernel where the CPU has one) and float64, and so
// does its pure-Go twin adamUpdateGo.
func TestAdamUpdate(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range testLengths(r) {
		s := adamCase(r)
		alpha := -float32(r.Float64() * 0.1)
		g, th0, m0, v0 := adamInputs(r, n)
		wm, wv, wth := adamThenAxpy(m0, v0, g, th0, s, alpha)
		m, v, th := append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), th0...)
		AdamUpdate(m, v, g, th, s, alpha)
		for name, got := range map[string][2][]float32{"m": {m, wm}, "v": {v, wv}, "θ": {th, wth}} {
			if i := firstBitDiff(got[0], got[1]); i >= 0 {
				t.Fatalf("n=%d %+v α=%v: %s[%d] = %v, want %v (AdamDirection then Axpy; g %v θ %v m %v v %v)",
					n, s, alpha, name, i, got[0][i], got[1][i], g[i], th0[i], m0[i], v0[i])
			}
		}
		k := newAdamCoeffs[float32](s)
		m, v, th = append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), th0...)
		adamUpdateGo(m, v, g, th, &k, alpha)
		if i := firstBitDiff(th, wth); i >= 0 {
			t.Fatalf("adamUpdateGo, n=%d: θ[%d] = %v, want %v", n, i, th[i], wth[i])
		}
		g64, th64, m64, v64 := to64(g), to64(th0), to64(m0), to64(v0)
		wm64, wv64, wth64 := adamThenAxpy(m64, v64, g64, th64, s, float64(alpha))
		AdamUpdate(m64, v64, g64, th64, s, float64(alpha))
		if firstBitDiff(m64, wm64) >= 0 || firstBitDiff(v64, wv64) >= 0 || firstBitDiff(th64, wth64) >= 0 {
			t.Fatalf("float64, n=%d: AdamUpdate differs from AdamDirection then Axpy", n)
		}
	}
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// TestAdamUpdateSplitSameBits: AdamUpdate split over 2 and 3 threads gives
// the bits of one thread (a length above the split threshold with a tail no
// vector covers), float32 and float64.
func TestAdamUpdateSplitSameBits(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(23, 24))
	n := 3*adamSplitMin + 37
	g, th0, m0, v0 := adamInputs(r, n)
	s := adamCase(r0())
	var want [3][]float32
	var want64 []float64
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		m, v, th := append([]float32(nil), m0...), append([]float32(nil), v0...), append([]float32(nil), th0...)
		AdamUpdate(m, v, g, th, s, -1e-3)
		th64 := to64(th0)
		AdamUpdate(to64(m0), to64(v0), to64(g), th64, s, -1e-3)
		if threads == 1 {
			want, want64 = [3][]float32{m, v, th}, th64
			continue
		}
		for j, got := range [3][]float32{m, v, th} {
			if i := firstBitDiff(got, want[j]); i >= 0 {
				t.Fatalf("%d threads, array %d (m, v, θ), element %d: %v, one thread %v", threads, j, i, got[i], want[j][i])
			}
		}
		if firstBitDiff(th64, want64) >= 0 {
			t.Fatalf("float64, %d threads: θ differs from one thread", threads)
		}
	}
}

// TestAdamUpdateNoAllocs: a call, split or not, allocates nothing.
func TestAdamUpdateNoAllocs(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	for _, n := range []int{1000, 2*adamSplitMin + 5} {
		m, v, g, th := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		s := AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 1, GradScale: 1, Mult: 1}
		AdamUpdate(m, v, g, th, s, -1e-3)
		if a := testing.AllocsPerRun(10, func() { AdamUpdate(m, v, g, th, s, -1e-3) }); a != 0 {
			t.Fatalf("n=%d: %v allocations per call, want 0", n, a)
		}
	}
}

// FuzzAdamUpdate: the fused kernel of every assembly set that has one
// against its pure-Go twin, on arbitrary float32 bit patterns (NaN, ±Inf,
// subnormals, −0) for g, θ, m and v.
func FuzzAdamUpdate(f *testing.F) {
	seed := make([]byte, 4*4*37)
	r := rand.New(rand.NewPCG(25, 26))
	for i := 0; i < len(seed); i += 4 {
		binary.LittleEndian.PutUint32(seed[i:], math.Float32bits(randVal(r)))
	}
	f.Add(seed, uint32(0xba83126f), uint16(3), uint8(0x1f))
	f.Add([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 0, 0, 0, 0x80, 1, 0, 0, 0}, uint32(0xff800000), uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, alphaBits uint32, step uint16, flags uint8) {
		arr, alpha, s := fuzzAdamArgs(data, 4, alphaBits, step, flags)
		if flags&8 != 0 {
			s.Mult = 0.5
		}
		k := newAdamCoeffs[float32](s)
		g, th, m, v := arr[0], arr[1], arr[2], arr[3]
		wm, wv, wth := append([]float32(nil), m...), append([]float32(nil), v...), append([]float32(nil), th...)
		adamUpdateGo(wm, wv, g, wth, &k, alpha)
		for _, im := range vecImpls() {
			gm, gv, gth := append([]float32(nil), m...), append([]float32(nil), v...), append([]float32(nil), th...)
			done := im.adamUpdate32(gm, gv, g, gth, &k, alpha)
			adamUpdateGo(gm[done:], gv[done:], g[done:], gth[done:], &k, alpha)
			for name, got := range map[string][2][]float32{"m": {gm, wm}, "v": {gv, wv}, "θ": {gth, wth}} {
				if i := firstBitDiff(got[0], got[1]); i >= 0 {
					t.Fatalf("%s: %s[%d] = %v (%#x), twin %v (%#x); g %v θ %v m %v v %v α %v",
						im.name, name, i, got[0][i], math.Float32bits(got[0][i]), got[1][i], math.Float32bits(got[1][i]), g[i], th[i], m[i], v[i], alpha)
				}
			}
		}
	})
}

// BenchmarkAdamUpdate times one Adam step with its update on the MLP's
// 203 530 parameters, one thread: AdamDirection then Axpy (two passes, u
// written and read back) against the fused AdamUpdate.
//
//	go test -run NONE -bench AdamUpdate -cpu 1 ./internal/kernel/
func BenchmarkAdamUpdate(b *testing.B) {
	const n = 784*256 + 256 + 256*10 + 10
	g, th, m, v := adamInputs(rand.New(rand.NewPCG(27, 28)), n)
	u := make([]float32, n)
	s := AdamStep{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, T: 3, GradScale: 1, Mult: 1}
	b.Run("direction+axpy", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			AdamDirection(u, m, v, g, th, s)
			Axpy(-1e-9, u, th)
		}
	})
	b.Run("fused", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			AdamUpdate(m, v, g, th, s, -1e-9)
		}
	})
	// 5 % of the weights get no gradient and start with subnormal moments,
	// as those of a dead unit do after some hundred steps: without the
	// flush (flushSubnormal) every call pays the subnormal arithmetic for
	// as long as v decays through that range (β₂ = 0.999: ~16 000 calls),
	// with it the first call sets them to 0.
	b.Run("fused, 5% of the moments subnormal", func(b *testing.B) {
		m0, v0, g0 := append([]float32(nil), m...), append([]float32(nil), v...), append([]float32(nil), g...)
		for j := 0; j < n; j += 20 {
			m0[j], v0[j], g0[j] = 1e-39, 1e-39, 0
		}
		b.SetBytes(4 * n)
		for b.Loop() {
			AdamUpdate(m0, v0, g0, th, s, -1e-9)
		}
	})
}

// Adam's moments that fall below the smallest normal number are flushed to
// zero with their sign, in the twin, in every assembly set's direction
// kernel and in the fused update kernel; the expectation is read off the
// IEEE bits (a float32 is subnormal when its exponent field is 0), and NaN,
// ±0 and normal values pass unchanged.
func TestAdamFlushesSubnormalMoments(t *testing.T) {
	in := []float32{1e-39, -1e-39, 2e-38, 1.3e-38, -1.3e-38, 0, float32(math.Copysign(0, -1)), float32(math.NaN()), 1e-3, 1.2e-38, -2e-38, 5e-45, 1, -1, 3e-39, 1.5e-38}
	var zero float32
	want := func(x float32) uint32 { // β₁·x + (1−β₁)·0 (−0 becomes +0), flushed when subnormal
		b := math.Float32bits(float32(0.9)*x + float32(0.1)*zero)
		if b&0x7f800000 == 0 {
			return b & 0x80000000
		}
		return b
	}
	s := AdamStep{Beta1: 0.9, Beta2: 0.9, Eps: 1e-8, T: 5, GradScale: 1, Mult: 1}
	k := newAdamCoeffs[float32](s)
	n := len(in)
	run := func(name string, step func(u, m, v, g, th []float32)) {
		u, m, v, g, th := make([]float32, n), append([]float32(nil), in...), append([]float32(nil), in...), make([]float32, n), make([]float32, n)
		step(u, m, v, g, th)
		for i, x := range in {
			if w := want(x); math.Float32bits(m[i]) != w || math.Float32bits(v[i]) != w {
				t.Errorf("%s: from %v, m' = %v (%#x), v' = %v (%#x), want bits %#x", name, x, m[i], math.Float32bits(m[i]), v[i], math.Float32bits(v[i]), w)
			}
		}
	}
	run("twin", func(u, m, v, g, th []float32) { adamGo(u, m, v, g, th, &k) })
	for _, im := range vecImpls() {
		run(im.name+" direction", func(u, m, v, g, th []float32) { runAdamImpl(im, u, m, v, g, th, &k) })
		run(im.name+" update", func(_, m, v, g, th []float32) {
			done := im.adamUpdate32(m, v, g, th, &k, -1e-3)
			adamUpdateGo(m[done:], v[done:], g[done:], th[done:], &k, -1e-3)
		})
	}
	k64 := newAdamCoeffs[float64](s)
	m, v := []float64{1e-309, -1e-309, 1e-300}, []float64{1e-309, 1e-309, 1e-300}
	adamGo(make([]float64, 3), m, v, make([]float64, 3), make([]float64, 3), &k64)
	if m[0] != 0 || !math.Signbit(m[1]) || m[1] != 0 || m[2] != 0.9*1e-300 || v[0] != 0 || v[2] != 0.9*1e-300 {
		t.Errorf("float64: m' %v, v' %v, want [0 -0 %v], [0 0 %v]", m, v, 0.9*1e-300, 0.9*1e-300)
	}
}
