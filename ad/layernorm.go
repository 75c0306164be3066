package ad

import (
	"fmt"
	"math"

	"github.com/genopt/gen/internal/kernel"
)

// Shapes in this file: x has any shape whose last axis has D elements (N
// rows of D), the gain g and the shift b have D elements, y has x's shape.

// LayerNorm records layer normalization over the last axis with an affine
// map (Ba, Kiros & Hinton, "Layer normalization", arXiv:1607.06450, eq. 4;
// PyTorch's nn.LayerNorm):
//
//	μ = 1/D·Σ_j x_j,   s = 1/D·Σ_j (x_j − μ)² + eps,   r = s^{−1/2}
//	x̂_j = (x_j − μ)·r,   y_j = g_j·x̂_j + b_j
//
// for every row of D elements. eps > 0 keeps r finite on a constant row
// (PyTorch's default is 1e-5). b may be nil for a normalization without
// shift. Row statistics are accumulated in float64.
func LayerNorm[T Float](t *Tape[T], x, g, b *Var[T], eps float64) *Var[T] {
	xs := x.Shape()
	if len(xs) == 0 {
		panic("ad: LayerNorm: input is a scalar, want rows of D elements")
	}
	d := xs[len(xs)-1]
	if g.Value.Len() != d || (b != nil && b.Value.Len() != d) {
		bs := []int(nil)
		if b != nil {
			bs = b.Shape()
		}
		panic(fmt.Sprintf("ad: LayerNorm: gain %v and shift %v do not fit input %v (want %d elements each)", g.Shape(), bs, xs, d))
	}
	if !(eps > 0) {
		panic(fmt.Sprintf("ad: LayerNorm: eps %v must be positive", eps))
	}
	var y *Var[T]
	var op *layerNormOp[T]
	if b == nil {
		y, op = record[layerNormOp[T]](t, xs, x, g)
	} else {
		y, op = record[layerNormOp[T]](t, xs, x, g, b)
	}
	op.eps, op.d = eps, d
	return run(y)
}

// layerNormOp keeps, per row, the mean μ and r = (var + eps)^{−1/2} of the
// last Forward, and float64 scratch for the jet.
type layerNormOp[T Float] struct {
	eps     float64
	d       int
	mean, r []float64
	scratch []float64
	ones    []T // D ones, float32 only (onesRow)
	h       []T // one row of ȳ ⊙ g, float32 only
}

func (*layerNormOp[T]) Name() string { return "LayerNorm" }

func (op *layerNormOp[T]) Forward(y *Var[T]) {
	x, g := y.in[0].Value.Data(), y.in[1].Value.Data()
	var b []T
	if len(y.in) == 3 {
		b = y.in[2].Value.Data()
	}
	d := op.d
	rows := len(x) / d
	op.mean, op.r = resize(op.mean, rows), resize(op.r, rows)
	out := y.Value.Data()
	ones := op.onesRow()
	for i := range rows {
		row := x[i*d : (i+1)*d]
		mu, sq := rowStats(row, ones)
		r := 1 / math.Sqrt(sq/float64(d)+op.eps)
		op.mean[i], op.r[i] = mu, r
		// The row is normalized in T's precision: (x − μ)·r with μ and r
		// rounded to T (in float64 exactly the statistics).
		o, gg := out[i*d:(i+1)*d], g[:d]
		m, rt := T(mu), T(r)
		if b == nil {
			for j, v := range row {
				o[j] = gg[j] * ((v - m) * rt)
			}
			continue
		}
		if o32, f32 := any(o).([]float32); f32 {
			// The same operations, 16 at a time.
			kernel.LayerNormRow32(o32, any(row).([]float32), any(gg).([]float32), any(b[:d]).([]float32), float32(m), float32(rt))
			continue
		}
		bb := b[:d]
		for j, v := range row {
			o[j] = gg[j]*((v-m)*rt) + bb[j]
		}
	}
}

// onesRow returns D ones in float32 (for the vector sums of rowStats and
// the VJP), nil in float64.
func (op *layerNormOp[T]) onesRow() []T {
	if _, f32 := any(T(0)).(float32); !f32 {
		return nil
	}
	if len(op.ones) != op.d {
		op.ones = make([]T, op.d)
		for j := range op.ones {
			op.ones[j] = 1
		}
	}
	return op.ones
}

// rowStats returns the mean μ of a row and Σ_j (x_j − μ)², in float64. In
// float32 (ones given) both come from vector dot products whose float32
// products are exact in float64: Σx = x·1 and Σ(x − μ)² = x·x − μ·Σx,
// which loses about log₁₀(1 + μ²/var) of float64's 16 digits, far from
// float32's 7; in float64 from two passes.
func rowStats[T Float](row, ones []T) (mu, sq float64) {
	d := float64(len(row))
	if ones != nil {
		s := kernel.Dot(row, ones)
		mu = s / d
		return mu, max(kernel.Dot(row, row)-mu*s, 0)
	}
	mu = kernel.Sum(row) / d
	return mu, rowSqDev(row, mu)
}

// rowSqDev returns Σ_j (x_j − mu)² in float64, in four partial sums.
func rowSqDev[T Float](x []T, mu float64) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		e0, e1 := float64(x[j])-mu, float64(x[j+1])-mu
		e2, e3 := float64(x[j+2])-mu, float64(x[j+3])-mu
		s0 += e0 * e0
		s1 += e1 * e1
		s2 += e2 * e2
		s3 += e3 * e3
	}
	for ; j < len(x); j++ {
		e := float64(x[j]) - mu
		s0 += e * e
	}
	return (s0 + s1) + (s2 + s3)
}

// VJP, with h = ȳ ⊙ g per row:
//
//	x̄ += r·(h − mean(h) − x̂·mean(h ⊙ x̂)),   ḡ += Σ_rows ȳ ⊙ x̂,   b̄ += Σ_rows ȳ
func (op *layerNormOp[T]) VJP(y *Var[T]) {
	x, g := y.in[0], y.in[1]
	xv, gv, gy := x.Value.Data(), g.Value.Data(), y.Grad.Data()
	d := op.d
	df := float64(d)
	var gg, bg []T
	if g.needsGrad {
		gg = g.Grad.Data()
	}
	if len(y.in) == 3 && y.in[2].needsGrad {
		bg = y.in[2].Grad.Data()
	}
	for i := range len(xv) / d {
		row, gr := xv[i*d:(i+1)*d], gy[i*d:(i+1)*d]
		mu, r := op.mean[i], op.r[i]
		if !x.needsGrad {
			op.paramGrads(gg, bg, row, gr, mu, r)
			continue
		}
		sh, shx := op.gainedSums(gr, gv, row, mu, r)
		sh, shx = sh/df, shx/df
		xg := x.Grad.Data()[i*d : (i+1)*d]
		xg, gv := xg[:len(row)], gv[:len(row)]
		// The elementwise terms in T's precision, the row sums above in
		// float64 (in float64 this is exactly the formula).
		m, rt, sht, shxt := T(mu), T(r), T(sh), T(shx)
		if gg == nil || bg == nil {
			for j, v := range row {
				xh := (v - m) * rt
				xg[j] += rt * (gr[j]*gv[j] - sht - xh*shxt)
			}
			op.paramGrads(gg, bg, row, gr, mu, r)
			continue
		}
		// All three gradients in one pass over the row.
		gg, bg := gg[:len(row)], bg[:len(row)]
		if xg32, f32 := any(xg).([]float32); f32 {
			// The same operations, 16 at a time.
			kernel.LayerNormGradRow32(xg32, any(gg).([]float32), any(bg).([]float32), any(row).([]float32),
				any(gr).([]float32), any(gv).([]float32), float32(m), float32(rt), float32(sht), float32(shxt))
			continue
		}
		for j, v := range row {
			gj := gr[j]
			xh := (v - m) * rt
			xg[j] += rt * (gj*gv[j] - sht - xh*shxt)
			gg[j] += gj * xh
			bg[j] += gj
		}
	}
}

// paramGrads adds one row's gain and shift gradients, ḡ += ȳ ⊙ x̂ and
// b̄ += ȳ, into gg and bg (each skipped when nil).
func (op *layerNormOp[T]) paramGrads(gg, bg, row, gr []T, mu, r float64) {
	if gg != nil {
		m, rt := T(mu), T(r)
		for j, v := range row {
			gg[j] += gr[j] * ((v - m) * rt)
		}
	}
	if bg != nil {
		for j, v := range gr {
			bg[j] += v
		}
	}
}

// gainedSums returns Σ_j h_j and Σ_j h_j·x̂_j with h = ȳ ⊙ g and x̂_j =
// (x_j − mu)·r, in float64. In float32 h is rounded to float32 and the
// sums are vector dot products, Σh = h·1 and Σh·x̂ = r·(h·x − μ·Σh) (exact
// float32 products summed in float64); in float64 two interleaved partial
// sums each.
func (op *layerNormOp[T]) gainedSums(gy, g, x []T, mu, r float64) (sh, shx float64) {
	if ones := op.onesRow(); ones != nil {
		op.h = resize(op.h, len(x))
		h := op.h
		// ones is float32, so T is: h = ȳ ⊙ g in float32, 16 at a time.
		kernel.Mul32(any(h).([]float32), any(gy[:len(x)]).([]float32), any(g[:len(x)]).([]float32))
		sh = kernel.Dot(h, ones)
		return sh, r * (kernel.Dot(h, x) - mu*sh)
	}
	var a0, a1, b0, b1 float64
	j := 0
	for ; j+2 <= len(x); j += 2 {
		h0 := float64(gy[j]) * float64(g[j])
		h1 := float64(gy[j+1]) * float64(g[j+1])
		a0 += h0
		a1 += h1
		b0 += h0 * ((float64(x[j]) - mu) * r)
		b1 += h1 * ((float64(x[j+1]) - mu) * r)
	}
	for ; j < len(x); j++ {
		h := float64(gy[j]) * float64(g[j])
		a0 += h
		b0 += h * ((float64(x[j]) - mu) * r)
	}
	return a0 + a1, b0 + b1
}

// Jet. Per row, with c = x − μ, s = mean(c²) + eps and r = s^{−1/2}, the
// normalized row x̂ = c·r has, along the line,
//
//	ċ = ẋ − mean(ẋ),   ṡ = 2·mean(c⊙ċ),   ṙ = −½·r³·ṡ
//	x̂̇ = ċ·r + c·ṙ
//	x̂̈ = c̈·r + c·r̈_lin  +  [2·ċ·ṙ + c·(¾·r⁵·ṡ² − r³·mean(ċ²))]
//
// with c̈ = ẍ − mean(ẍ) and r̈_lin = −r³·mean(c⊙c̈); the bracket is the
// normalization's own curvature. Then, for y = g⊙x̂ + b,
//
//	ẏ = g⊙x̂̇ + ġ⊙x̂ + ḃ,   ÿ = g⊙x̂̈ + 2·ġ⊙x̂̇ + g̈⊙x̂ + b̈
//
// where 2·ġ⊙x̂̇ is the gain's bilinear own curvature. Gauss–Newton mode drops
// both own-curvature terms.
func (op *layerNormOp[T]) Jet(y *Var[T], curv bool) bool {
	x, g := y.in[0], y.in[1]
	var b *Var[T]
	if len(y.in) == 3 {
		b = y.in[2]
	}
	d := op.d
	df := float64(d)
	xv, gv := x.Value.Data(), g.Value.Data()
	op.scratch = resize(op.scratch, 3*d)
	cd, h1, h2 := op.scratch[:d], op.scratch[d:2*d], op.scratch[2*d:]
	d1, d2 := y.d1.Data(), y.d2.Data()
	wrote := x.hasD2 || (curv && x.hasD1) || g.hasD2 || (b != nil && b.hasD2)
	// The parameters' tangents, nil where absent.
	var gd1, gd2, bd1, bd2 []T
	if g.hasD1 {
		gd1 = g.d1.Data()
	}
	if g.hasD2 {
		gd2 = g.d2.Data()
	}
	if b != nil && b.hasD1 {
		bd1 = b.d1.Data()
	}
	if b != nil && b.hasD2 {
		bd2 = b.d2.Data()
	}
	for i := range len(xv) / d {
		row := xv[i*d : (i+1)*d]
		mu, r := op.mean[i], op.r[i]
		r3 := r * r * r
		clear(h1)
		clear(h2)
		if x.hasD1 {
			xd := x.d1.Data()[i*d : (i+1)*d]
			m := kernel.Sum(xd) / df
			var sc, sq float64
			for j, v := range xd {
				cd[j] = float64(v) - m
				sc += (float64(row[j]) - mu) * cd[j]
				sq += cd[j] * cd[j]
			}
			sdot := 2 * sc / df
			rdot := -0.5 * r3 * sdot
			for j := range h1 {
				h1[j] = cd[j]*r + (float64(row[j])-mu)*rdot
			}
			if curv {
				rc := 0.75*r3*r*r*sdot*sdot - r3*sq/df
				for j := range h2 {
					h2[j] = 2*cd[j]*rdot + (float64(row[j])-mu)*rc
				}
			}
		}
		if x.hasD2 {
			xdd := x.d2.Data()[i*d : (i+1)*d]
			m := kernel.Sum(xdd) / df
			var sc float64
			for j, v := range xdd {
				sc += (float64(row[j]) - mu) * (float64(v) - m)
			}
			rl := -r3 * sc / df
			for j, v := range xdd {
				h2[j] += (float64(v)-m)*r + (float64(row[j])-mu)*rl
			}
		}
		o1, o2 := d1[i*d:(i+1)*d], d2[i*d:(i+1)*d]
		if gd1 != nil && bd1 != nil && gd2 == nil && bd2 == nil && wrote {
			// The usual case (parameters with first tangents only), in
			// one loop without branches; the same sums as below.
			gd1, bd1, h1, h2 := gd1[:len(row)], bd1[:len(row)], h1[:len(row)], h2[:len(row)]
			for j, v := range row {
				xh := (float64(v) - mu) * r
				gd := float64(gd1[j])
				o1[j] = T(float64(gv[j])*h1[j] + gd*xh + float64(bd1[j]))
				t2 := float64(gv[j]) * h2[j]
				if curv {
					t2 += 2 * gd * h1[j]
				}
				o2[j] = T(t2)
			}
			continue
		}
		for j, v := range row {
			xh := (float64(v) - mu) * r
			t1 := float64(gv[j]) * h1[j]
			t2 := float64(gv[j]) * h2[j]
			if gd1 != nil {
				gd := float64(gd1[j])
				t1 += gd * xh
				if curv {
					t2 += 2 * gd * h1[j]
				}
			}
			if gd2 != nil {
				t2 += float64(gd2[j]) * xh
			}
			if bd1 != nil {
				t1 += float64(bd1[j])
			}
			if bd2 != nil {
				t2 += float64(bd2[j])
			}
			o1[j] = T(t1)
			if wrote {
				o2[j] = T(t2)
			}
		}
	}
	return wrote
}
