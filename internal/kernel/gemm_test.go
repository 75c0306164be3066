package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// Tolerances. The oracle is the definition summed in float64; a kernel in
// precision T may differ from it by rounding in each of the k products and
// sums, so the bound is
//
//	|got − want| ≤ tolFactor · ε_T · (k+2) · (|alpha|·Σ_p |op(A)[i,p]·op(B)[p,j]| + |beta·C[i,j]|)
//
// with ε_T the unit roundoff (2⁻²⁴ for float32, 2⁻⁵³ for float64); the +2
// covers the scaling by alpha and the addition of beta·C, and tolFactor = 2
// leaves room for the scaled-A packing rounding once more.
const tolFactor = 2

func unitRoundoff[T Float]() float64 {
	if unsafe.Sizeof(T(0)) == 4 {
		return 0x1p-24
	}
	return 0x1p-53
}

// gemmCase is one GEMM problem laid out in memory with guard bands: the
// gaps between rows (lda > cols etc.) and the elements before and after each
// matrix hold NaN, so a kernel that reads outside op(A), op(B) or a beta = 0
// C, or writes outside C, is caught.
type gemmCase[T Float] struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	lda, ldb, ldc  int
	a, b, c        []T // full buffers including guards
	aOff, bOff     int
	cOff           int
}

const guard = 7 // NaN elements before and after each matrix

func newGemmCase[T Float](r *rand.Rand, transA, transB bool, m, n, k int, alpha, beta T) *gemmCase[T] {
	g := &gemmCase[T]{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = ac+r.IntN(3), bc+r.IntN(3), n+r.IntN(3)
	fill := func(rows, cols, ld int, cNaN bool) ([]T, int) {
		buf := make([]T, 2*guard+rows*ld)
		nan := T(math.NaN())
		for i := range buf {
			buf[i] = nan
		}
		for i := range rows {
			for j := range cols {
				if cNaN {
					continue // beta = 0: C's old contents are NaN and must be ignored
				}
				buf[guard+i*ld+j] = T(r.Float64()*2 - 1)
			}
		}
		return buf, guard
	}
	g.a, g.aOff = fill(ar, ac, g.lda, false)
	g.b, g.bOff = fill(br, bc, g.ldb, false)
	g.c, g.cOff = fill(m, n, g.ldc, beta == 0)
	return g
}

func (g *gemmCase[T]) at(buf []T, off, ld, i, j int, trans bool) float64 {
	if trans {
		i, j = j, i
	}
	return float64(buf[off+i*ld+j])
}

// want returns the float64 oracle value and error bound of every element of C.
func (g *gemmCase[T]) want() (val, bound []float64) {
	val = make([]float64, g.m*g.n)
	bound = make([]float64, g.m*g.n)
	eps := unitRoundoff[T]()
	for i := range g.m {
		for j := range g.n {
			var s, abs float64
			for p := range g.k {
				prod := g.at(g.a, g.aOff, g.lda, i, p, g.transA) * g.at(g.b, g.bOff, g.ldb, p, j, g.transB)
				s += prod
				abs += math.Abs(prod)
			}
			v := float64(g.alpha) * s
			abs = math.Abs(float64(g.alpha)) * abs
			if g.beta != 0 {
				old := float64(g.c[g.cOff+i*g.ldc+j])
				v += float64(g.beta) * old
				abs += math.Abs(float64(g.beta) * old)
			}
			val[i*g.n+j] = v
			bound[i*g.n+j] = tolFactor*eps*float64(g.k+2)*abs + 1e-300
		}
	}
	return val, bound
}

// check compares got (the full C buffer after the call) with the oracle and
// verifies that every guard element is still NaN.
func (g *gemmCase[T]) check(t *testing.T, label string, got []T, val, bound []float64) {
	t.Helper()
	for idx, v := range got {
		rel := idx - g.cOff
		i, j := rel/max(g.ldc, 1), rel%max(g.ldc, 1)
		inside := rel >= 0 && i < g.m && j < g.n
		if !inside {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("%s: %s wrote guard element %d of C (got %v)", label, g, idx, v)
			}
			continue
		}
		w, bd := val[i*g.n+j], bound[i*g.n+j]
		if d := math.Abs(float64(v) - w); !(d <= bd) {
			t.Fatalf("%s: %s: C[%d,%d] = %v, want %v (|diff| %.3g > bound %.3g)", label, g, i, j, v, w, d, bd)
		}
	}
}

func (g *gemmCase[T]) String() string {
	return fmt.Sprintf("%T m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		T(0), g.m, g.n, g.k, g.transA, g.transB, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

// run calls f on a fresh copy of C and returns that copy.
func (g *gemmCase[T]) run(f gemmFunc[T]) []T {
	c := append([]T(nil), g.c...)
	f(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a[g.aOff:], g.lda, g.b[g.bOff:], g.ldb, g.beta, c[g.cOff:], g.ldc)
	return c
}

type gemmFunc[T Float] func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// variant is one implementation under test.
type variant[T Float] struct {
	name string
	f    gemmFunc[T]
}

// packedVariant runs gemmPacked with arch on threads threads, always
// splitting (minFlops 0) so that the split logic sees small problems too.
func packedVariant[T Float](arch *gemmArch[T], threads int) variant[T] {
	free := newGemmFree(arch)
	return variant[T]{
		name: fmt.Sprintf("%s/%dT", arch.name, threads),
		f: func(transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
			checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
			if m == 0 || n == 0 {
				return
			}
			gemmPacked(free, threads, 0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		},
	}
}

// tinyBlocks returns arch with cache blocks only a few tiles large, so that
// problems of a few dozen rows exercise every loop of the blocking.
func tinyBlocks[T Float](arch *gemmArch[T]) *gemmArch[T] {
	t := *arch
	t.name += "-tiny"
	t.kc, t.mc, t.nc = 5, 2*arch.mr, 2*arch.nr
	return &t
}

// refArch is the packed driver with the pure-Go micro-kernel on an odd tile.
func refArch[T Float]() *gemmArch[T] {
	const mr, nr = 3, 5
	return &gemmArch[T]{name: "ref-3x5", mr: mr, nr: nr, kc: 4, mc: 2 * mr, nc: 3 * nr,
		kern: func(kc int, a *T, rsA, csA int, b, c *T, ldc int, accumulate bool) {
			as := unsafe.Slice(a, max(0, (mr-1)*rsA+(kc-1)*csA+1))
			bs := unsafe.Slice(b, kc*nr)
			cs := unsafe.Slice(c, (mr-1)*ldc+nr)
			microKernelRef(mr, nr, kc, as, rsA, csA, bs, cs, ldc, accumulate)
		}}
}

func variants[T Float](arches []*gemmFree[T]) []variant[T] {
	vs := []variant[T]{
		{"Gemm", Gemm[T]},
		{"generic", gemmGeneric[T]},
		packedVariant(refArch[T](), 2),
	}
	for _, f := range arches {
		vs = append(vs, packedVariant(f.arch, 1), packedVariant(f.arch, 2), packedVariant(tinyBlocks(f.arch), 3))
	}
	return vs
}

// edgeSizes are dimensions at and around every tile and block size of the
// kernels (6, 8, 12, 16, 32; kc 192, 256; mc 96, 144, 192) and a few primes.
var edgeSizes = []int{1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 37, 47, 48, 49,
	61, 64, 95, 96, 97, 127, 143, 145, 191, 192, 193, 211, 255, 256, 257, 293, 300}

var alphaBetas = [][2]float64{{1, 0}, {1, 1}, {-0.5, 0}, {0.75, -1.25}, {2, 1}, {0, 0.5}, {1, 0}}

// pickSize draws a matrix size: an edge size of the blocking half the
// time, else uniform in 1…300.
func pickSize(r *rand.Rand) int {
	if r.IntN(2) == 0 {
		return edgeSizes[r.IntN(len(edgeSizes))]
	}
	return 1 + r.IntN(300)
}

func testGemmRandom[T Float](t *testing.T, arches []*gemmFree[T], cases int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 99))
	vs := variants(arches)
	pick := func() int { return pickSize(r) }
	for range cases {
		m, n, k := pick(), pick(), pick()
		// Keep the float64 oracle cheap: shrink the largest of three big sizes.
		for m*n*k > 4_000_000 {
			m, k = max(1, m/2), max(1, k/2)
		}
		ab := alphaBetas[r.IntN(len(alphaBetas))]
		g := newGemmCase(r, r.IntN(2) == 0, r.IntN(2) == 0, m, n, k, T(ab[0]), T(ab[1]))
		val, bound := g.want()
		for _, v := range vs {
			g.check(t, v.name, g.run(v.f), val, bound)
		}
	}
}

func TestGemmRandomFloat32(t *testing.T) {
	testGemmRandom(t, gemmArches32(), casesFor(t, 200, 20), 1)
}

func TestGemmRandomFloat64(t *testing.T) {
	testGemmRandom(t, gemmArches64(), casesFor(t, 200, 20), 2)
}

func casesFor(t *testing.T, long, short int) int {
	if testing.Short() {
		return short
	}
	return long
}

// TestGemmSmallExhaustive runs every transpose and alpha/beta pair on every
// combination of small edge sizes, where the edge-tile logic lives.
func TestGemmSmallExhaustive(t *testing.T) {
	sizes := []int{1, 5, 12, 13, 17, 33}
	r := rand.New(rand.NewPCG(3, 4))
	vs32, vs64 := variants(gemmArches32()), variants(gemmArches64())
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range []int{1, 4, 7} {
				for tr := range 4 {
					for _, ab := range alphaBetas[:5] {
						g32 := newGemmCase(r, tr&1 != 0, tr&2 != 0, m, n, k, float32(ab[0]), float32(ab[1]))
						val, bound := g32.want()
						for _, v := range vs32 {
							g32.check(t, v.name, g32.run(v.f), val, bound)
						}
						g64 := newGemmCase(r, tr&1 != 0, tr&2 != 0, m, n, k, ab[0], ab[1])
						val, bound = g64.want()
						for _, v := range vs64 {
							g64.check(t, v.name, g64.run(v.f), val, bound)
						}
					}
				}
			}
		}
	}
}

// TestGemmThreadsBitIdentical checks the determinism promise: the same
// problem gives the same bits on 1, 2 and 3 threads.
func TestGemmThreadsBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, f := range gemmArches32() {
		for _, sz := range [][3]int{{200, 150, 300}, {37, 290, 129}, {290, 37, 257}} {
			g := newGemmCase(r, false, true, sz[0], sz[1], sz[2], float32(1), float32(1))
			one := g.run(packedVariant(f.arch, 1).f)
			for _, th := range []int{2, 3} {
				got := g.run(packedVariant(f.arch, th).f)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(one[i]) && !math.IsNaN(float64(got[i])) {
						t.Fatalf("%s %v: %d threads: element %d = %v, 1 thread gave %v", f.arch.name, sz, th, i, got[i], one[i])
					}
				}
			}
		}
	}
}

// TestMicroKernels compares each assembly micro-kernel with microKernelRef
// on one tile, both store modes.
func TestMicroKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, f := range gemmArches32() {
		testMicroKernel(t, r, f.arch)
	}
	for _, f := range gemmArches64() {
		testMicroKernel(t, r, f.arch)
	}
}

func testMicroKernel[T Float](t *testing.T, r *rand.Rand, ar *gemmArch[T]) {
	for _, kc := range []int{0, 1, 3, 4, 5, 8, 9, 256} {
		for _, acc := range []bool{false, true} {
			// Packed (rsA 1, csA mr), row-major in place (lda 301), transposed in place.
			for _, str := range [][2]int{{1, ar.mr}, {301, 1}, {1, 301}} {
				ldc := ar.nr + 3
				a, b := make([]T, 301*301), make([]T, kc*ar.nr+1)
				for i := range a {
					a[i] = T(r.Float64()*2 - 1)
				}
				for i := range b {
					b[i] = T(r.Float64()*2 - 1)
				}
				c := make([]T, ar.mr*ldc)
				for i := range c {
					c[i] = T(r.Float64())
				}
				want := append([]T(nil), c...)
				microKernelRef(ar.mr, ar.nr, kc, a, str[0], str[1], b, want, ldc, acc)
				ar.kern(kc, &a[0], str[0], str[1], &b[0], &c[0], ldc, acc)
				for i := range c {
					if i%ldc >= ar.nr {
						if c[i] != want[i] {
							t.Fatalf("%s kc=%d: wrote outside the tile at %d", ar.name, kc, i)
						}
						continue
					}
					// Both sum kc products of magnitude ≤ 1 and differ by rounding only.
					if d := math.Abs(float64(c[i] - want[i])); d > 4*unitRoundoff[T]()*float64(kc+2)*float64(kc+2) {
						t.Fatalf("%s kc=%d accumulate=%v strides=%v: C[%d,%d] = %v, want %v", ar.name, kc, acc, str, i/ldc, i%ldc, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestGemmNoAllocs checks that steady-state GEMM calls allocate nothing, on
// one thread and split across the pool.
func TestGemmNoAllocs(t *testing.T) {
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for _, sz := range []int{40, 200} {
			a, b, c := make([]float32, sz*sz), make([]float32, sz*sz), make([]float32, sz*sz)
			a64, b64, c64 := make([]float64, sz*sz), make([]float64, sz*sz), make([]float64, sz*sz)
			Gemm(false, false, sz, sz, sz, 1, a, sz, b, sz, 0, c, sz)
			Gemm(true, true, sz, sz, sz, 1, a64, sz, b64, sz, 0, c64, sz)
			n := testing.AllocsPerRun(5, func() {
				Gemm(false, false, sz, sz, sz, 1, a, sz, b, sz, 0, c, sz)
				Gemm(true, true, sz, sz, sz, 1, a64, sz, b64, sz, 0, c64, sz)
			})
			if n != 0 {
				t.Errorf("threads=%d size=%d: %v allocations per call pair, want 0", threads, sz, n)
			}
		}
	}
	SetThreads(0)
}

func FuzzGemm(f *testing.F) {
	f.Add(uint16(13), uint16(33), uint16(7), uint8(0), uint8(1), uint64(1))
	f.Add(uint16(1), uint16(1), uint16(1), uint8(3), uint8(0), uint64(2))
	f.Add(uint16(97), uint16(17), uint16(257), uint8(2), uint8(3), uint64(3))
	vs32, vs64 := variants(gemmArches32()), variants(gemmArches64())
	f.Fuzz(func(t *testing.T, m, n, k uint16, trans, ab uint8, seed uint64) {
		mm, nn, kk := int(m%300)+1, int(n%300)+1, int(k%300)
		r := rand.New(rand.NewPCG(seed, 1))
		albe := alphaBetas[int(ab)%len(alphaBetas)]
		g32 := newGemmCase(r, trans&1 != 0, trans&2 != 0, mm, nn, kk, float32(albe[0]), float32(albe[1]))
		val, bound := g32.want()
		for _, v := range vs32 {
			g32.check(t, v.name, g32.run(v.f), val, bound)
		}
		g64 := newGemmCase(r, trans&1 != 0, trans&2 != 0, mm, nn, kk, albe[0], albe[1])
		val, bound = g64.want()
		for _, v := range vs64 {
			g64.check(t, v.name, g64.run(v.f), val, bound)
		}
	})
}
