package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// geluExact returns GELU's σ, σ', σ″ at x in float64 from math.Erfc and
// math.Exp: the oracle of GELU32.
func geluExact(x float64) (f, d1, d2 float64) {
	phi := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
	cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
	return x * cdf, cdf + x*phi, phi * (2 - x*x)
}

// GELU32 agrees with the exact GELU within its stated bounds: Φ within
// 3e-7 (7.5e-8 from A&S 7.1.26, the rest float32 rounding of the
// exponential and the polynomial), so σ within 3e-7·|x| plus half an ulp
// of σ, σ' within 3e-7 plus the rounding of x·φ, σ″ within 3e-7 of φ's
// scale times (2 + x²), where φ below flush is taken as 0. Covers both signs, zero, the clamp at |x| = 16 and
// values far beyond it.
func TestGELU32Oracle(t *testing.T) {
	flush := math.Exp(geluExpMin) / math.Sqrt(2*math.Pi)
	var xs []float32
	for x := -20.0; x <= 20; x += 1.0 / 64 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e20, -1e20, 3e38, -3e38)
	n := len(xs)
	f, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n)
	GELU32(f, d1, d2, xs)
	for i, x32 := range xs {
		x := float64(x32)
		ef, e1, e2 := geluExact(x)
		ax := math.Abs(x)
		phiScale := math.Exp(-min(x*x, 1e4)/2) / math.Sqrt(2*math.Pi)
		if math.Abs(float64(f[i])-ef) > 3e-7*ax+6e-8*math.Abs(ef) ||
			math.Abs(float64(d1[i])-e1) > 3e-7+3e-7*ax*phiScale+flush*ax ||
			math.Abs(float64(d2[i])-e2) > 3e-7*phiScale*(2+x*x)+flush*(2+x*x) {
			t.Fatalf("x = %v: GELU32 (%v, %v, %v), exact (%v, %v, %v)", x32, f[i], d1[i], d2[i], ef, e1, e2)
		}
	}
}

// kernelSets runs f once for every set of GELU/exponential kernels this CPU
// runs (AVX-512 with AVX2 for the last block of 8, AVX2 alone), and skips
// when there is none.
func kernelSets(t *testing.T, f func(t *testing.T)) {
	if !geluHasAVX2 {
		t.Skip("no assembly GELU kernels on this CPU or build")
	}
	has512 := geluHasAVX512
	defer func() { geluHasAVX512 = has512 }()
	if has512 {
		t.Run("avx512", f)
	}
	geluHasAVX512 = false
	t.Run("avx2", f)
}

// The assembly kernels give the same bits as their pure-Go twin on random
// lengths with odd tails (so every kernel and the twin run), inside NaN
// guard bands; a NaN input gives a NaN σ in both.
func TestGELU32Twin(t *testing.T) { kernelSets(t, testGELU32Twin) }

func testGELU32Twin(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	specials := []float32{0, float32(math.Copysign(0, -1)), 16, -16, 17, -17, 13.19, -13.19, 1e20, -1e20, 1e-40, -1e-40}
	for trial := range 200 {
		n := r.IntN(300)
		if trial < len(specials) {
			n = 16 + r.IntN(16)
		}
		x, _ := guarded(r, n, func(i int) float32 {
			if trial < len(specials) && i < 16 {
				return specials[(trial+i)%len(specials)]
			}
			return float32(r.NormFloat64() * 4)
		})
		var outs [2][3][]float32
		var bufs [2][3][]float32
		for k := range outs {
			for j := range outs[k] {
				outs[k][j], bufs[k][j] = guarded(r, n, func(int) float32 { return math.Float32frombits(sentinelBits) })
			}
		}
		GELU32(outs[0][0], outs[0][1], outs[0][2], x)
		geluGo(outs[1][0], outs[1][1], outs[1][2], x)
		for k := range outs {
			for j := range outs[k] {
				checkGuards(t, "GELU32", outs[k][j], bufs[k][j])
			}
		}
		for j, name := range []string{"σ", "σ'", "σ″"} {
			for i := range x {
				if a, b := outs[0][j][i], outs[1][j][i]; math.Float32bits(a) != math.Float32bits(b) {
					t.Fatalf("n = %d, x[%d] = %v: %s assembly %v, pure Go %v", n, i, x[i], name, a, b)
				}
			}
		}
	}
	x := make([]float32, 16)
	x[3] = float32(math.NaN())
	f, d1, d2 := make([]float32, 16), make([]float32, 16), make([]float32, 16)
	GELU32(f, d1, d2, x)
	g := make([]float32, 1)
	geluGo(g, make([]float32, 1), make([]float32, 1), x[3:4])
	if !math.IsNaN(float64(f[3])) || !math.IsNaN(float64(g[0])) {
		t.Fatalf("σ(NaN): assembly %v, pure Go %v; want NaN", f[3], g[0])
	}
}

// ExpScaled32 agrees with math.Exp to a few float32 ulps (8e-7 relative,
// counting the rounding of scale·x in float32, which moves the argument by
// up to 6e-8·|scale·x|) on arguments in [−87, 0], is 0 below, and matches
// its pure-Go twin bit for bit on random lengths inside guard bands, with
// every set of kernels.
func TestExpScaled32(t *testing.T) { kernelSets(t, testExpScaled32) }

func testExpScaled32(t *testing.T) {
	var xs []float32
	for x := -100.0; x <= 10; x += 1.0 / 128 {
		xs = append(xs, float32(x))
	}
	const scale, shift = 0.5, 5
	dst := make([]float32, len(xs))
	ExpScaled32(dst, xs, scale, shift)
	for i, x := range xs {
		y := float64(float32(scale*x)) - shift
		want := math.Exp(y)
		if y < geluExpMin {
			want = 0
		}
		if math.Abs(float64(dst[i])-want) > 8e-7*want {
			t.Fatalf("exp(%v·%v − %v) = %v, math.Exp %v", scale, x, shift, dst[i], want)
		}
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		n := r.IntN(100)
		x, _ := guarded(r, n, func(int) float32 { return float32(r.NormFloat64() * 10) })
		got, gbuf := guarded(r, n, func(int) float32 { return 0 })
		want := make([]float32, n)
		mx := float32(math.Inf(-1))
		for _, v := range x {
			mx = max(mx, float32(1.5*v))
		}
		ExpScaled32(got, x, 1.5, mx)
		expScaledGo(want, x, 1.5, mx)
		checkGuards(t, "ExpScaled32", got, gbuf)
		for i := range x {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n = %d, x[%d] = %v: assembly %v, pure Go %v", n, i, x[i], got[i], want[i])
			}
		}
	}
}

// MulAdd32 matches its pure-Go twin bit for bit with every kernel set, on
// random lengths inside guard bands, and the twin is dst + a·b rounded
// once per operation (checked in float64).
func TestMulAdd32(t *testing.T) { kernelSets(t, testMulAdd32) }

func testMulAdd32(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		n := r.IntN(100)
		gen := func(int) float32 { return float32(r.NormFloat64()) }
		a, _ := guarded(r, n, gen)
		b, _ := guarded(r, n, gen)
		got, gbuf := guarded(r, n, gen)
		want := append([]float32(nil), got...)
		orig := append([]float32(nil), got...)
		MulAdd32(got, a, b)
		mulAddGo(want, a, b)
		checkGuards(t, "MulAdd32", got, gbuf)
		for i := range a {
			oracle := float32(float64(orig[i]) + float64(float32(float64(a[i])*float64(b[i]))))
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || want[i] != oracle {
				t.Fatalf("n = %d, element %d: assembly %v, pure Go %v, oracle %v", n, i, got[i], want[i], oracle)
			}
		}
	}
}

// Mul32 matches its pure-Go twin bit for bit with every kernel set, on
// random lengths inside guard bands, and the twin is a·b rounded once
// (checked in float64).
func TestMul32(t *testing.T) { kernelSets(t, testMul32) }

func testMul32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		n := r.IntN(100)
		gen := func(int) float32 { return float32(r.NormFloat64()) }
		a, _ := guarded(r, n, gen)
		b, _ := guarded(r, n, gen)
		got, gbuf := guarded(r, n, func(int) float32 { return float32(math.NaN()) })
		want := append([]float32(nil), got...)
		Mul32(got, a, b)
		mulGo(want, a, b)
		checkGuards(t, "Mul32", got, gbuf)
		for i := range a {
			oracle := float32(float64(a[i]) * float64(b[i]))
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || want[i] != oracle {
				t.Fatalf("n = %d, element %d: assembly %v, pure Go %v, oracle %v", n, i, got[i], want[i], oracle)
			}
		}
	}
}

// BenchmarkGELU32 times GELU32 on one GPT step's MLP activations of one
// layer (768 tokens × 512), the assembly against the pure-Go loop.
func BenchmarkGELU32(b *testing.B) {
	const n = 768 * 512
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	f, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n)
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			GELU32(f, d1, d2, x)
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			geluGo(f, d1, d2, x)
		}
	})
}
