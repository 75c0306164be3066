package kernel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// The ReLU kernels (vec_relu.go) against their Go twins, bit for bit, on
// random shapes with gaps between rows (which must stay untouched) and
// special values (±0, NaN, ±Inf, ties), and the twins against the
// definitions. Without the assembly kernels the twin comparisons skip.

// reluSpecial draws a value for the ReLU tests: mostly normal, sometimes a
// special value or a small integer (ties, exact zeros).
func reluSpecial(r *rand.Rand) float32 {
	switch k := r.IntN(20); {
	case k == 0:
		return float32(math.Copysign(0, -1))
	case k == 1:
		return 0
	case k == 2:
		return float32(math.NaN())
	case k == 3:
		return float32(math.Inf(1 - 2*r.IntN(2)))
	case k < 8:
		return float32(r.IntN(3) - 1)
	}
	return float32(r.NormFloat64())
}

// rowsBuf returns a guarded matrix of rows×cols with leading dimension ld;
// the elements between rows hold the sentinel too.
func rowsBuf(r *rand.Rand, rows, cols, ld int, fill func() float32) (s, buf []float32) {
	n := (rows-1)*ld + cols
	s, buf = guarded(r, n, func(int) float32 { return math.Float32frombits(sentinelBits) })
	for i := range rows {
		for j := range cols {
			s[i*ld+j] = fill()
		}
	}
	return s, buf
}

// gapsKept fails if an element between the rows of s lost the sentinel.
func gapsKept(t *testing.T, what string, s []float32, rows, cols, ld int) {
	t.Helper()
	for i := range rows - 1 {
		for j := cols; j < ld; j++ {
			if math.Float32bits(s[i*ld+j]) != sentinelBits {
				t.Fatalf("%s: element %d between rows %d and %d overwritten with %v", what, j, i, i+1, s[i*ld+j])
			}
		}
	}
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// withReLUKernels skips a comparison with the Go twins where the assembly
// kernels do not run (the twins then run in their place).
func withReLUKernels(t *testing.T) {
	t.Helper()
	if !reluHasAVX512 {
		t.Skip("no AVX-512 ReLU kernels on this CPU or build")
	}
}

func TestReLURows32Twin(t *testing.T) {
	withReLUKernels(t)
	r := rand.New(rand.NewPCG(31, 32))
	for trial := range 300 {
		rows, cols := 1+r.IntN(5), 1+r.IntN(70)
		ldd, lds := cols+r.IntN(3), cols+r.IntN(3)
		src, sbuf := rowsBuf(r, rows, cols, lds, func() float32 { return reluSpecial(r) })
		b := []float32{0, float32(math.Copysign(0, -1)), 0.5, -0.25}[trial%4]
		got, gbuf := rowsBuf(r, rows, cols, ldd, func() float32 { return 7 })
		want, _ := rowsBuf(r, rows, cols, ldd, func() float32 { return 7 })
		ReLURows32(rows, cols, got, ldd, src, lds, b)
		reluRowsGo(rows, cols, want, ldd, src, lds, b)
		checkGuards(t, "ReLURows32 dst", got, gbuf)
		checkGuards(t, "ReLURows32 src", src, sbuf)
		gapsKept(t, "ReLURows32 dst", got, rows, cols, ldd)
		for i := range rows {
			for j := range cols {
				g, w := got[i*ldd+j], want[i*ldd+j]
				if !sameBits(g, w) {
					t.Fatalf("rows %d cols %d b %v: dst[%d,%d] = %v (%#x), Go loop %v (%#x), src %v", rows, cols, b, i, j, g, math.Float32bits(g), w, math.Float32bits(w), src[i*lds+j])
				}
			}
		}
	}
}

// The Go loop is max(v+b, 0) by the definition: the sum where positive,
// +0 where not (−0 included), NaN for NaN.
func TestReLURows32Definition(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	src := make([]float32, 200)
	for i := range src {
		src[i] = reluSpecial(r)
	}
	dst := make([]float32, len(src))
	for _, b := range []float32{0, float32(math.Copysign(0, -1)), 0.75} {
		reluRowsGo(4, 50, dst, 50, src, 50, b)
		for i, v := range src {
			z := v + b
			switch {
			case z != z:
				if d := dst[i]; d == d {
					t.Fatalf("b %v: ReLU(%v) = %v, want NaN", b, v, d)
				}
			case z > 0:
				if dst[i] != z {
					t.Fatalf("b %v: ReLU(%v) = %v, want %v", b, v, dst[i], z)
				}
			default:
				if math.Float32bits(dst[i]) != 0 {
					t.Fatalf("b %v: ReLU(%v) = %v (%#x), want +0", b, v, dst[i], math.Float32bits(dst[i]))
				}
			}
		}
	}
}

func TestReLUGradRows32Twin(t *testing.T) {
	withReLUKernels(t)
	r := rand.New(rand.NewPCG(35, 36))
	for trial := range 300 {
		rows, cols := 1+r.IntN(5), 1+r.IntN(70)
		ldd, ldg, ldy := cols+r.IntN(3), cols+r.IntN(3), cols+r.IntN(3)
		acc := trial%2 == 1
		g, gb := rowsBuf(r, rows, cols, ldg, func() float32 { return reluSpecial(r) })
		y, yb := rowsBuf(r, rows, cols, ldy, func() float32 { return reluSpecial(r) })
		start := func() float32 { return float32(r.NormFloat64()) }
		got, db := rowsBuf(r, rows, cols, ldd, start)
		want := append([]float32(nil), got...)
		sg := ReLUGradRows32(rows, cols, got, ldd, g, ldg, y, ldy, acc)
		sw := reluGradRowsGo(rows, cols, want, ldd, g, ldg, y, ldy, acc)
		checkGuards(t, "ReLUGradRows32 dst", got, db)
		checkGuards(t, "ReLUGradRows32 g", g, gb)
		checkGuards(t, "ReLUGradRows32 y", y, yb)
		gapsKept(t, "ReLUGradRows32 dst", got, rows, cols, ldd)
		if math.Float64bits(sg) != math.Float64bits(sw) && !(sg != sg && sw != sw) {
			t.Fatalf("rows %d cols %d acc %v: sum %v, Go loop %v", rows, cols, acc, sg, sw)
		}
		for i := range rows {
			for j := range cols {
				if a, b := got[i*ldd+j], want[i*ldd+j]; !sameBits(a, b) {
					t.Fatalf("rows %d cols %d acc %v: dst[%d,%d] = %v, Go loop %v (g %v, y %v)", rows, cols, acc, i, j, a, b, g[i*ldg+j], y[i*ldy+j])
				}
			}
		}
	}
}

// The Go loop by the definition: g where y > 0, a zero of g's sign times 0
// elsewhere, added when accumulating; the sum is Σ of the terms (compared
// with a float64 sum in row order, to rounding).
func TestReLUGradRows32Definition(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	const rows, cols = 3, 37
	g, y, d0 := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols)
	for i := range g {
		g[i], y[i], d0[i] = float32(r.NormFloat64()), reluSpecial(r), float32(r.NormFloat64())
	}
	for _, acc := range []bool{false, true} {
		dst := append([]float32(nil), d0...)
		sum := reluGradRowsGo(rows, cols, dst, cols, g, cols, y, cols, acc)
		var want, mag float64
		for i := range g {
			term := float32(0) * g[i] // ±0
			if y[i] > 0 {
				term = g[i]
			}
			want += float64(term)
			mag += math.Abs(float64(term))
			w := term
			if acc {
				w = d0[i] + term
			}
			if !sameBits(dst[i], w) {
				t.Fatalf("acc %v: dst[%d] = %v, want %v (g %v, y %v)", acc, i, dst[i], w, g[i], y[i])
			}
		}
		// float64 sums of float32 terms: error ≤ n·2⁻⁵³·Σ|t|.
		if math.Abs(sum-want) > float64(len(g))*0x1p-53*mag {
			t.Fatalf("acc %v: sum %v, want %v", acc, sum, want)
		}
	}
}

func TestPool2x2ReLU32Twin(t *testing.T) {
	withReLUKernels(t)
	r := rand.New(rand.NewPCG(39, 40))
	for trial := range 200 {
		ph, pw := 1+r.IntN(4), 1+r.IntN(5)
		rs := 2*pw + r.IntN(3)
		oc := 16 * (1 + r.IntN(2))
		oc += r.IntN(3)
		o0 := r.IntN(oc - 15)
		cols := (2*ph-1)*rs + 2*pw
		src, sb := guarded(r, cols*oc, func(int) float32 {
			if trial%2 == 0 {
				return float32(r.IntN(3) - 1) // ties and exact zeros
			}
			return reluSpecial(r)
		})
		bias := make([]float32, oc)
		for i := range bias {
			bias[i] = []float32{0, float32(math.Copysign(0, -1)), 0.5}[r.IntN(3)]
		}
		n := ph * pw * oc
		got, db := guarded(r, n, func(int) float32 { return 7 })
		want := append([]float32(nil), got...)
		ga, wa := make([]int32, n), make([]int32, n)
		Pool2x2ReLU32(got, ga, src, bias, oc, o0, rs, ph, pw)
		pool2x2ReLUGo(want, wa, src, bias, oc, o0, rs, ph, pw)
		checkGuards(t, "Pool2x2ReLU32 dst", got, db)
		checkGuards(t, "Pool2x2ReLU32 src", src, sb)
		for i := range got {
			bothNaN := got[i] != got[i] && want[i] != want[i] // which NaN payload is not specified
			if !sameBits(got[i], want[i]) && !bothNaN || ga[i] != wa[i] {
				t.Fatalf("ph %d pw %d rs %d oc %d o0 %d: dst[%d] = %v arg %d, Go loop %v arg %d", ph, pw, rs, oc, o0, i, got[i], ga[i], want[i], wa[i])
			}
		}
	}
}

// The Go loop by the definition: the largest of the window through ReLU,
// the first position in row-major order that holds it, NaN if the window
// has one.
func TestPool2x2ReLU32Definition(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const ph, pw, rs, oc = 3, 2, 5, 16
	src := make([]float32, ((2*ph-1)*rs+2*pw)*oc)
	for i := range src {
		src[i] = float32(r.IntN(5) - 2)
	}
	src[(rs+1)*oc+3] = float32(math.NaN())
	bias := make([]float32, oc)
	for i := range bias {
		bias[i] = float32(i%3) - 1
	}
	dst, arg := make([]float32, ph*pw*oc), make([]int32, ph*pw*oc)
	pool2x2ReLUGo(dst, arg, src, bias, oc, 0, rs, ph, pw)
	for pi := range ph {
		for pj := range pw {
			for o := range oc {
				c := 2*pi*rs + 2*pj
				best, at, nan := float32(math.Inf(-1)), -1, false
				for _, col := range []int{c, c + 1, c + rs, c + rs + 1} {
					z := src[col*oc+o] + bias[o]
					nan = nan || z != z
					if z > best {
						best, at = z, col
					}
				}
				d := (pi*pw+pj)*oc + o
				if nan {
					if dst[d] == dst[d] {
						t.Fatalf("window (%d,%d) channel %d holds a NaN: got %v", pi, pj, o, dst[d])
					}
					continue
				}
				want := max(best, 0)
				if !sameBits(dst[d], want) || int(arg[d]) != at {
					t.Fatalf("window (%d,%d) channel %d: got %v at %d, want %v at %d", pi, pj, o, dst[d], arg[d], want, at)
				}
			}
		}
	}
}

func BenchmarkReLUKernels(b *testing.B) {
	const n = 128 * 256
	x, g, d := make([]float32, n), make([]float32, n), make([]float32, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i], g[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	for _, asm := range []bool{false, true} {
		if asm && !reluHasAVX512 {
			continue
		}
		name := map[bool]string{false: "go", true: "avx512"}[asm]
		has := reluHasAVX512
		b.Run("relu/"+name, func(b *testing.B) {
			reluHasAVX512 = asm
			defer func() { reluHasAVX512 = has }()
			for b.Loop() {
				ReLURows32(1, n, d, n, x, n, 0)
			}
		})
		b.Run("relugrad/"+name, func(b *testing.B) {
			reluHasAVX512 = asm
			defer func() { reluHasAVX512 = has }()
			for b.Loop() {
				ReLUGradRows32(1, n, d, n, g, n, x, n, true)
			}
		})
	}
}

// AddRows32 by its definition (one float32 addition per element, NaN and
// ±0 included), with the assembly kernel and the Go loop.
func TestAddRows32(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	has := reluHasAVX512
	defer func() { reluHasAVX512 = has }()
	for _, asm := range []bool{false, has} {
		reluHasAVX512 = asm
		for range 150 {
			rows, cols := 1+r.IntN(5), 1+r.IntN(70)
			ldd, lda := cols+r.IntN(3), cols+r.IntN(3)
			a, abuf := rowsBuf(r, rows, cols, lda, func() float32 { return reluSpecial(r) })
			v, vbuf := guarded(r, cols, func(int) float32 { return reluSpecial(r) })
			dst, dbuf := rowsBuf(r, rows, cols, ldd, func() float32 { return 7 })
			AddRows32(rows, cols, dst, ldd, a, lda, v)
			checkGuards(t, "AddRows32 a", a, abuf)
			checkGuards(t, "AddRows32 v", v, vbuf)
			checkGuards(t, "AddRows32 dst", dst, dbuf)
			gapsKept(t, "AddRows32 dst", dst, rows, cols, ldd)
			for i := range rows {
				for j := range cols {
					want := a[i*lda+j] + v[j]
					if got := dst[i*ldd+j]; !sameBits(got, want) && !(got != got && want != want) {
						t.Fatalf("asm %v, %d×%d: dst[%d,%d] = %v, want %v + %v = %v", asm, rows, cols, i, j, got, a[i*lda+j], v[j], want)
					}
				}
			}
		}
	}
}

// Unpool2x2ReLU32 against its Go loop (bit for bit, sums included) and
// the loop against the definition, with the argmax of Pool2x2ReLU32 on
// data with ties; columns outside every window keep their values.
func TestUnpool2x2ReLU32(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	for trial := range 200 {
		ph, pw := 1+r.IntN(4), 1+r.IntN(5)
		rs := 2*pw + r.IntN(3)
		oc := 16*(1+r.IntN(2)) + r.IntN(3)
		o0 := r.IntN(oc - 15)
		cols := (2*ph-1)*rs + 2*pw
		src := make([]float32, cols*oc)
		for i := range src {
			src[i] = float32(r.IntN(3) - 1)
		}
		bias := make([]float32, oc)
		n := ph * pw * oc
		yv, arg, gy := make([]float32, n), make([]int32, n), make([]float32, n)
		pool2x2ReLUGo(yv, arg, src, bias, oc, o0, rs, ph, pw)
		for i := range gy {
			gy[i] = reluSpecial(r)
			if trial%3 == 0 && gy[i] != gy[i] {
				gy[i] = 1
			}
		}
		want, _ := guarded(r, cols*oc, func(int) float32 { return 7 })
		got, gbuf := guarded(r, cols*oc, func(int) float32 { return 7 })
		var ws, gs [16]float64
		gs[3], ws[3] = 0.5, 0.5
		unpool2x2ReLUGo(want, &ws, gy, yv, arg, oc, o0, rs, ph, pw)
		Unpool2x2ReLU32(got, &gs, gy, yv, arg, oc, o0, rs, ph, pw)
		checkGuards(t, "Unpool2x2ReLU32 dst", got, gbuf)
		for i := range got {
			if !sameBits(got[i], want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("ph %d pw %d rs %d oc %d o0 %d: dst[%d] = %v, Go loop %v", ph, pw, rs, oc, o0, i, got[i], want[i])
			}
		}
		for o := range gs {
			if math.Float64bits(gs[o]) != math.Float64bits(ws[o]) && !(gs[o] != gs[o] && ws[o] != ws[o]) {
				t.Fatalf("ph %d pw %d: sums[%d] = %v, Go loop %v", ph, pw, o, gs[o], ws[o])
			}
		}
		// The definition, on the Go loop: each window's argmax column holds
		// the masked gradient, its other columns 0, the rest untouched.
		inWindow := make([]bool, cols)
		for pi := range ph {
			for pj := range pw {
				c := 2*pi*rs + 2*pj
				for _, col := range []int{c, c + 1, c + rs, c + rs + 1} {
					inWindow[col] = true
				}
				for o := o0; o < o0+16; o++ {
					d := (pi*pw+pj)*oc + o
					term := float32(0) * gy[d]
					if yv[d] > 0 {
						term = gy[d]
					}
					for _, col := range []int{c, c + 1, c + rs, c + rs + 1} {
						w := float32(0)
						if col == int(arg[d]) {
							w = term
						}
						if v := want[col*oc+o]; !sameBits(v, w) && !(v != v && w != w) {
							t.Fatalf("window (%d,%d) channel %d column %d: %v, want %v", pi, pj, o, col, v, w)
						}
					}
				}
			}
		}
		for col, in := range inWindow {
			for o := range oc {
				if !in || o < o0 || o >= o0+16 {
					if want[col*oc+o] != 7 {
						t.Fatalf("column %d channel %d outside the windows written: %v", col, o, want[col*oc+o])
					}
				}
			}
		}
	}
}

// FuzzReLUKernels runs the kernels of vec_relu_amd64.s and their Go twins
// on arbitrary float32 bit patterns (NaN, infinities and subnormals
// included) laid out as rows×cols matrices (the shape from the fuzzer):
// ReLURows32, ReLUGradRows32 and AddRows32 bit for bit, Pool2x2ReLU32 and
// Unpool2x2ReLU32 on 16 channels (NaN payloads aside), Transpose32 exactly.
func FuzzReLUKernels(f *testing.F) {
	seed := make([]byte, 4*3*16*9)
	r := rand.New(rand.NewPCG(53, 54))
	for i := 0; i < len(seed); i += 4 {
		binary.LittleEndian.PutUint32(seed[i:], math.Float32bits(reluSpecial(r)))
	}
	f.Add(seed, uint8(3), uint32(0x3f000000))
	f.Add([]byte{0, 0, 0x80, 0x7f, 0, 0, 0x80, 0xff, 0, 0, 0, 0x80}, uint8(1), uint32(0x80000000))
	f.Fuzz(func(t *testing.T, data []byte, rowsIn uint8, bBits uint32) {
		if !reluHasAVX512 {
			t.Skip("no AVX-512 ReLU kernels on this CPU or build")
		}
		n := len(data) / 12 // three arrays of n values
		rows := 1 + int(rowsIn)%4
		cols := n / rows
		if cols == 0 {
			return
		}
		arr := make([][]float32, 3)
		for a := range arr {
			arr[a] = make([]float32, rows*cols)
			for i := range arr[a] {
				arr[a][i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(a*n+i):]))
			}
		}
		b := math.Float32frombits(bBits)
		same := func(what string, got, want []float32) {
			t.Helper()
			for i := range got {
				if !sameBits(got[i], want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%s, %d×%d: element %d = %v, Go twin %v", what, rows, cols, i, got[i], want[i])
				}
			}
		}
		got, want := make([]float32, rows*cols), make([]float32, rows*cols)
		ReLURows32(rows, cols, got, cols, arr[0], cols, b)
		reluRowsGo(rows, cols, want, cols, arr[0], cols, b)
		same("ReLURows32", got, want)
		for _, acc := range []bool{false, true} {
			copy(got, arr[2])
			copy(want, arr[2])
			sg := ReLUGradRows32(rows, cols, got, cols, arr[0], cols, arr[1], cols, acc)
			sw := reluGradRowsGo(rows, cols, want, cols, arr[0], cols, arr[1], cols, acc)
			same("ReLUGradRows32", got, want)
			if math.Float64bits(sg) != math.Float64bits(sw) && !(sg != sg && sw != sw) {
				t.Fatalf("ReLUGradRows32 %d×%d: sum %v, Go twin %v", rows, cols, sg, sw)
			}
		}
		AddRows32(rows, cols, got, cols, arr[0], cols, arr[1][:cols])
		for i := range want {
			want[i] = arr[0][i] + arr[1][i%cols]
		}
		same("AddRows32", got, want)
		tr := make([]float32, rows*cols)
		Transpose32(rows, cols, tr, rows, arr[0], cols)
		for i := range rows {
			for j := range cols {
				if math.Float32bits(tr[j*rows+i]) != math.Float32bits(arr[0][i*cols+j]) {
					t.Fatalf("Transpose32 %d×%d: (%d,%d) moved wrong", rows, cols, i, j)
				}
			}
		}
		// Pooling: 16 channels, one row of windows over two product rows.
		pw := n / 64
		if pw == 0 {
			return
		}
		const oc = 16
		src := make([]float32, 4*pw*oc)
		for i := range src {
			src[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(i%(3*n)):]))
		}
		bias := make([]float32, 0, oc)
		for i := range oc {
			bias = append(bias, arr[2][i%len(arr[2])])
		}
		pg, pwant := make([]float32, pw*oc), make([]float32, pw*oc)
		ag, awant := make([]int32, pw*oc), make([]int32, pw*oc)
		Pool2x2ReLU32(pg, ag, src, bias, oc, 0, 2*pw, 1, pw)
		pool2x2ReLUGo(pwant, awant, src, bias, oc, 0, 2*pw, 1, pw)
		same("Pool2x2ReLU32", pg, pwant)
		for i := range ag {
			if ag[i] != awant[i] {
				t.Fatalf("Pool2x2ReLU32: arg[%d] = %d, Go twin %d", i, ag[i], awant[i])
			}
		}
		ug, uw := make([]float32, 4*pw*oc), make([]float32, 4*pw*oc)
		var sg, sw [16]float64
		Unpool2x2ReLU32(ug, &sg, src[:pw*oc], pwant, awant, oc, 0, 2*pw, 1, pw)
		unpool2x2ReLUGo(uw, &sw, src[:pw*oc], pwant, awant, oc, 0, 2*pw, 1, pw)
		same("Unpool2x2ReLU32", ug, uw)
		for o := range sg {
			if math.Float64bits(sg[o]) != math.Float64bits(sw[o]) && !(sg[o] != sg[o] && sw[o] != sw[o]) {
				t.Fatalf("Unpool2x2ReLU32: sums[%d] = %v, Go twin %v", o, sg[o], sw[o])
			}
		}
	})
}
