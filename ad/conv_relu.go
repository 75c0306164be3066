package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
	"github.com/genopt/gen/tensor"
)

// Conv2DReLU records a convolution followed by ReLU and, when pool > 0,
// by max pooling over pool×pool windows moved by pool:
//
//	z = conv(x, W) + b                          (as Conv2D)
//	y = max(z, 0)                               (pool = 0)
//	y[n,o,i,j] = max(max_{0≤p,q<k} z[n, o, i·k+p, j·k+q], 0)   (pool = k)
//
// the values, gradients and tangents of MaxPool2D(Activate(Conv2D(x, W,
// b, stride, pad), ReLU), k, k), in one primitive: the ReLU and the
// pooling run on each image's product while it is still in the core's
// cache, and neither z nor max(z, 0) is ever stored for the batch. y is
// N×OC×OH×OW, or N×OC×PH×PW with PH = ⌊OH/k⌋ (likewise PW) after pooling.
//
// Reverse and jet rules: with m = [y > 0] (ReLU's derivative, 0 at the
// kink as in Activate) and, after pooling, a* the window's argmax,
//
//	z̄ = m ⊙ ȳ               ż = conv tangents as Conv2D's;  ẏ = m ⊙ ż,  ÿ = m ⊙ z̈
//	z̄[a*] = m·ȳ (pooled)    ẏ = m·ż[a*],  ÿ = m·z̈[a*]
//
// and then Conv2D's rules with z̄. Both ReLU and max pooling are piecewise
// linear, so the primitive adds no curvature of its own. Since t ↦ max(t,
// 0) is monotone, the maximum of max(z, 0) over a window is max(max z, 0),
// and a*, taken over z with MaxPool2D's rule at ties (the first in
// row-major order), is where MaxPool2D of the activated values takes the
// gradient whenever it is nonzero (a window whose maximum is ≤ 0 passes
// none).
func Conv2DReLU[T Float](t *Tape[T], x, w, b *Var[T], stride, pad, pool int) *Var[T] {
	if pool < 0 {
		panic(fmt.Sprintf("ad: Conv2DReLU: pooling window %d, want ≥ 1 (or 0 for none)", pool))
	}
	g := convGeometry("Conv2DReLU", x, w, b, stride, pad)
	shape := [4]int{g.n, g.oc, g.oh, g.ow}
	ph, pw := 0, 0
	if pool > 0 {
		if g.oh < pool || g.ow < pool {
			panic(fmt.Sprintf("ad: Conv2DReLU: a %d×%d pooling window does not fit the %d×%d convolution output", pool, pool, g.oh, g.ow))
		}
		ph, pw = g.oh/pool, g.ow/pool
		shape[2], shape[3] = ph, pw
	}
	var y *Var[T]
	var op *convReLUOp[T]
	if b == nil {
		y, op = record[convReLUOp[T]](t, shape[:], x, w)
	} else {
		y, op = record[convReLUOp[T]](t, shape[:], x, w, b)
	}
	op.conv.g = g
	op.conv.ep.relu, op.conv.ep.pool, op.conv.ep.ph, op.conv.ep.pw = true, pool, ph, pw
	return run(y)
}

// convEpilogue is what a conv2DOp applies to each image's product: ReLU,
// and, when pool > 0, max pooling over pool×pool windows into PH×PW = ph×pw
// maps, with the argmax of every pooled output (its column in the
// channel's row of the image's product) in arg. The zero value is none
// (Conv2D).
//
// With posMajor (set by Forward: float32, a transposed product, 2×2
// windows and a bias, the case of the AVX-512 kernels) arg holds the
// argmax position by position instead, that of pooled output (o, d) at
// arg[d·OC + o], as kernel.Pool2x2ReLU32 writes and Unpool2x2ReLU32 reads
// it.
type convEpilogue struct {
	relu         bool
	pool, ph, pw int
	arg          []int32
	posMajor     bool
}

// argAt returns the index in arg of pooled output p = o·per + d.
func (ep *convEpilogue) argAt(p, per, oc int) int {
	if ep.posMajor {
		return p%per*oc + p/per
	}
	return p
}

// convReLUOp is Conv2DReLU: a conv2DOp with an epilogue. It is a type of
// its own, not a flag on conv2DOp, because its output is not affine in the
// weights (LineCache updates Conv2D's output along a line as y + t·ẏ, and
// this one's, unpooled, as max(z + t·ż, 0)).
type convReLUOp[T Float] struct {
	conv conv2DOp[T]
	pre  Var[T] // the pre-activation node of preActivation
}

// reluOfAffine: without pooling, y = max(z, 0) with z = conv(x, W) + b
// affine in (W, b) for a fixed x (input 0).
func (op *convReLUOp[T]) reluOfAffine() (fixed int, ok bool) { return 0, op.conv.ep.pool == 0 }

// preActivation writes z = conv(x, W) + b and its first tangent ż = conv(ẋ,
// W) + conv(x, V) + c (each N×OC×OH×OW) without the ReLU, for LineCache.
func (op *convReLUOp[T]) preActivation(y *Var[T], z, zdot *tensor.Tensor[T]) {
	ep := op.conv.ep
	op.conv.ep = convEpilogue{arg: ep.arg}
	op.pre.Value, op.pre.d1, op.pre.in = z, zdot, y.in
	op.conv.Forward(&op.pre)
	op.conv.Jet(&op.pre, false)
	op.pre.Value, op.pre.d1, op.pre.in = nil, nil, nil
	op.conv.ep = ep
}

func (op *convReLUOp[T]) Name() string {
	if op.conv.ep.pool > 0 {
		return "Conv2DReLU+MaxPool2D"
	}
	return "Conv2DReLU"
}

// Forward: y = max(z, 0), pooled (conv2DOp.forwardImage, poolReLU or
// placeReLU).
func (op *convReLUOp[T]) Forward(y *Var[T]) { op.conv.Forward(y) }

// VJP: Conv2D's with z̄ = m ⊙ ȳ (widenReLU) or z̄ scattered to the argmax
// (unpoolReLU).
func (op *convReLUOp[T]) VJP(y *Var[T]) { op.conv.VJP(y) }

// Jet: Conv2D's tangents of z, through the mask and the argmax
// (placeMasked, gatherReLU).
func (op *convReLUOp[T]) Jet(y *Var[T], curv bool) bool { return op.conv.Jet(y, curv) }

// productStride is the distance between two output rows of one channel in
// an image's product: W in the wide layout, OW otherwise.
func (g *convGeom) productStride() int {
	if g.colWidth() != g.l {
		return g.w
	}
	return g.ow
}

// prodLayout says where element (o, col) of one image's product lies: at
// o·so + col·sc — OC × colWidth (so = colWidth, sc = 1) or transposed,
// colWidth × OC (so = 1, sc = OC; see conv2DOp.transposed).
type prodLayout struct{ so, sc int }

// placeReLU writes max(src + bias, 0) into dst (OC×OH×OW) from one image's
// product src (layout lay); bias may be nil. dst may be src in the L-wide
// layout, not transposed.
func placeReLU[T Float](dst, src, bias []T, g *convGeom, lay prodLayout) {
	rs := g.productStride()
	for o := range g.oc {
		var b T
		if bias != nil {
			b = bias[o]
		}
		if d32, f32 := any(dst).([]float32); f32 && lay.sc == 1 {
			// The same bits, 16 at a time.
			kernel.ReLURows32(g.oh, g.ow, d32[o*g.l:], g.ow, any(src).([]float32)[o*lay.so:], rs, float32(b))
			continue
		}
		for i := range g.oh {
			d := dst[o*g.l+i*g.ow:][:g.ow]
			if lay.sc == 1 {
				sr := src[o*lay.so+i*rs:][:g.ow]
				for j, v := range sr {
					d[j] = max(v+b, 0)
				}
				continue
			}
			sr := src[o+i*rs*lay.sc:]
			for j := range d {
				d[j] = max(sr[j*lay.sc]+b, 0)
			}
		}
	}
}

// placeMasked writes src + c where the output yv is positive and 0
// elsewhere into dst (OC×OH×OW), from a tangent of one image's product
// src (layout lay); c may be nil.
func placeMasked[T Float](dst, src, c, yv []T, g *convGeom, lay prodLayout) {
	rs := g.productStride()
	for o := range g.oc {
		var b T
		if c != nil {
			b = c[o]
		}
		for i := range g.oh {
			d := dst[o*g.l+i*g.ow:][:g.ow]
			m := yv[o*g.l+i*g.ow:][:g.ow]
			sr := src[o*lay.so+i*rs*lay.sc:]
			for j := range d {
				d[j] = reluMask[T](m[j]) * (sr[j*lay.sc] + b)
			}
		}
	}
}

// widenReLU writes the gradient of one image's product, ȳ where the output
// yv is positive and 0 elsewhere, from ȳ (OC×OH×OW) into dst (OC ×
// colWidth), with zeros in the columns no output uses, and adds its sum
// over each channel o (accumulated in float64, kernel.Sum) to bias[o]
// unless bias is nil.
func widenReLU[T Float](dst, bias, gy, yv []T, g *convGeom) {
	cw, rs := g.colWidth(), g.productStride()
	if d32, f32 := any(dst).([]float32); f32 {
		widenReLU32(d32, any(bias).([]float32), any(gy).([]float32), any(yv).([]float32), g)
		return
	}
	for o := range g.oc {
		for i := range g.oh {
			d := dst[o*cw+i*rs:]
			gr := gy[o*g.l+i*g.ow:][:g.ow]
			m := yv[o*g.l+i*g.ow:][:g.ow]
			d = d[:len(gr)]
			for j, v := range gr {
				d[j] = reluMask[T](m[j]) * v
			}
			if i < g.oh-1 && rs > g.ow {
				clear(d[g.ow:rs])
			}
		}
		if bias != nil {
			// Summed apart (kernel.Sum: four running sums): one running
			// sum in the loop above would make it wait on each addition.
			bias[o] += T(kernel.Sum(dst[o*cw : (o+1)*cw]))
		}
	}
}

// widenReLU32 is widenReLU in float32: the masked rows 16 at a time
// (kernel.ReLUGradRows32, which also sums them: in another order than
// widenReLU's kernel.Sum, the same at any thread count).
func widenReLU32(dst, bias, gy, yv []float32, g *convGeom) {
	cw, rs := g.colWidth(), g.productStride()
	for o := range g.oc {
		d := dst[o*cw : (o+1)*cw]
		sum := kernel.ReLUGradRows32(g.oh, g.ow, d, rs, gy[o*g.l:], g.ow, yv[o*g.l:], g.ow, false)
		for i := 0; rs > g.ow && i < g.oh-1; i++ {
			for j := i*rs + g.ow; j < (i+1)*rs; j++ { // a few columns: no memclr call
				d[j] = 0
			}
		}
		if bias != nil {
			bias[o] += float32(sum)
		}
	}
}

// poolReLU pools one image's product src (layout lay) plus the bias (nil
// for none) over the windows of ep into dst (OC×PH×PW) through ReLU, and
// records in arg each window's argmax (the first maximum in row-major
// order) as its column in the product.
func poolReLU[T Float](dst []T, arg []int32, src, bias []T, g *convGeom, ep *convEpilogue, lay prodLayout, s *convScratch[T]) {
	rs, k, sc := g.productStride(), ep.pool, lay.sc
	if k == 2 && lay.so == 1 {
		if ep.posMajor {
			s.pool = resize(s.pool, len(dst))
			poolReLU2T32(any(dst).([]float32), arg, any(src).([]float32), any(bias).([]float32), g.oc, rs, ep.ph, ep.pw, any(s.pool).([]float32))
			return
		}
		poolReLU2T(dst, arg, src, bias, g, ep, rs)
		return
	}
	d := 0
	for o := range g.oc {
		var b T
		if bias != nil {
			b = bias[o]
		}
		sp := src[o*lay.so:] // channel o: column col at sp[col·sc]
		for pi := range ep.ph {
			row := pi * k * rs
			if k == 2 {
				for pj := range ep.pw {
					// Unrolled (kernel.Max2x2): the same maximum and argmax as
					// the general loop below, NaN aside.
					c0 := row + 2*pj
					best, off := kernel.Max2x2(sp[c0*sc]+b, sp[(c0+1)*sc]+b, sp[(c0+rs)*sc]+b, sp[(c0+rs+1)*sc]+b, rs)
					dst[d], arg[d] = max(best, 0), int32(c0+off)
					d++
				}
				continue
			}
			for pj := range ep.pw {
				first := row + pj*k
				best, bi := sp[first*sc]+b, first
				for p := range k {
					r := first + p*rs
					for q := range k {
						z := sp[(r+q)*sc] + b
						if z > best {
							bi = r + q
						}
						best = max(best, z)
					}
				}
				dst[d], arg[d] = max(best, 0), int32(bi)
				d++
			}
		}
	}
}

// poolReLU2T is poolReLU for 2×2 windows of a transposed product (column
// col of channel o at src[col·OC + o]): window by window, all channels at
// once, so that every read is a contiguous run of OC values. The same
// maxima and argmax as poolReLU's loop.
func poolReLU2T[T Float](dst []T, arg []int32, src, bias []T, g *convGeom, ep *convEpilogue, rs int) {
	oc, per := g.oc, ep.ph*ep.pw
	for pi := range ep.ph {
		for pj := range ep.pw {
			c0 := pi*2*rs + 2*pj
			ra, rb := src[c0*oc:][:oc], src[(c0+1)*oc:][:oc]
			rc, rd := src[(c0+rs)*oc:][:oc], src[(c0+rs+1)*oc:][:oc]
			d := pi*ep.pw + pj
			for o := range oc {
				var b T
				if bias != nil {
					b = bias[o]
				}
				best, off := kernel.Max2x2(ra[o]+b, rb[o]+b, rc[o]+b, rd[o]+b, rs)
				dst[o*per+d], arg[o*per+d] = max(best, 0), int32(c0+off)
			}
		}
	}
}

// poolReLU2T32 is poolReLU2T in float32 (oc ≥ 16 channels) with the
// argmax position by position (convEpilogue.posMajor): the windows 16
// channels at a time (kernel.Pool2x2ReLU32; with oc not a multiple of 16
// the last block overlaps the one before and recomputes the same values),
// the maxima into tmp (ph·pw × oc), then transposed into dst. The same
// maxima and argmax as poolReLU2T.
func poolReLU2T32(dst []float32, arg []int32, src, bias []float32, oc, rs, ph, pw int, tmp []float32) {
	for o0 := 0; o0 < oc; o0 += 16 {
		kernel.Pool2x2ReLU32(tmp, arg, src, bias, oc, min(o0, oc-16), rs, ph, pw)
	}
	per := ph * pw
	kernel.Transpose32(per, oc, dst, per, tmp, oc)
}

// unpoolReLU2T32 is unpoolReLU for poolReLU2T32's outputs (posMajor), in
// float32: it writes only the transposed gradient dstT (cw × OC) — the
// GEMMs of the reverse rule read it, one of them packing it transposed —
// 16 channels at a time (kernel.Unpool2x2ReLU32) from gy and yv turned
// position by position in tmp (2·OC·PH·PW), zeros the columns in no
// window, and adds each channel's terms, summed in float64 window after
// window as unpoolReLU does, to bias unless bias is nil.
func unpoolReLU2T32(dstT, bias, gy, yv []float32, arg []int32, g *convGeom, ep *convEpilogue, tmp []float32) {
	oc, per, rs, cw := g.oc, ep.ph*ep.pw, g.productStride(), g.colWidth()
	gt, yt := tmp[:oc*per], tmp[oc*per:2*oc*per]
	kernel.Transpose32(oc, per, gt, oc, gy, per)
	kernel.Transpose32(oc, per, yt, oc, yv, per)
	done := 0 // channels whose sums are in bias
	for o0 := 0; o0 < oc; o0 += 16 {
		b0 := min(o0, oc-16) // the last block may overlap: same values again
		var sums [16]float64
		kernel.Unpool2x2ReLU32(dstT, &sums, gt, yt, arg, oc, b0, rs, ep.ph, ep.pw)
		for o := done; o < b0+16 && bias != nil; o++ {
			bias[o] += float32(sums[o-b0])
		}
		done = b0 + 16
	}
	for i := range g.oh { // the columns in no window: past 2·PW, and rows past 2·PH
		from := i * rs
		if i < 2*ep.ph {
			from += 2 * ep.pw
		}
		clear(dstT[from*oc : min((i+1)*rs, cw)*oc])
	}
}

// unpoolReLU writes the gradient of one image's product into dst (OC ×
// cw, cw = colWidth): the pooled gradient gy at each window's argmax (its
// column arg in the channel's row) where the pooled output yv is
// positive, 0 everywhere else; the same transposed (cw × OC) into dstT
// unless dstT is nil; and adds its sum over each channel (per pooled
// outputs, accumulated in float64) to bias unless bias is nil.
func unpoolReLU[T Float](dst, dstT, bias, gy, yv []T, arg []int32, per, cw int) {
	oc := len(gy) / per
	clear(dst)
	if dstT != nil {
		clear(dstT[:cw*oc])
	}
	for o := range oc {
		var sum float64
		d := dst[o*cw : (o+1)*cw]
		for p := o * per; p < (o+1)*per; p++ {
			v := reluMask[T](yv[p]) * gy[p]
			d[arg[p]] = v
			if dstT != nil {
				dstT[int(arg[p])*oc+o] = v
			}
			sum += float64(v)
		}
		if bias != nil {
			bias[o] += T(sum)
		}
	}
}

// gatherReLU writes, for each pooled output p of one image (per outputs
// per channel), the element (channel, arg[p]) of src plus c[channel] where
// the pooled output yv is positive and 0 elsewhere into dst; src is a
// tangent of the image's product (layout lay) and c (nil for none) the
// bias tangent.
func gatherReLU[T Float](dst, src, c, yv []T, arg []int32, per int, lay prodLayout, ep *convEpilogue) {
	oc := len(dst) / per
	for p := range dst {
		t := src[p/per*lay.so+int(arg[ep.argAt(p, per, oc)])*lay.sc]
		if c != nil {
			t += c[p/per]
		}
		dst[p] = reluMask[T](yv[p]) * t
	}
}

// reluMask returns ReLU's derivative at the output y: 1 where y > 0, else
// 0 (also for NaN), as Activate's [z > 0]. The factor is looked up, so the
// loops that multiply by it compile to a conditional move: a branch on the
// sign of random pre-activations mispredicts half the time. Multiplying
// (rather than selecting) also gives Activate's products 0·v.
func reluMask[T Float](y T) T {
	k := 0
	if y > 0 {
		k = 1
	}
	return [2]T{0, 1}[k]
}
