package ad

import (
	"fmt"

	"github.com/genopt/gen/internal/kernel"
)

// Shapes in this file (NCHW, PyTorch's layout): x is N×C×H×W (N images of
// C channels), a convolution weight is OC×C×KH×KW, its bias has OC
// elements, and an output is N×OC×OH×OW. L = OH·OW is the number of output
// positions of one image and CKK = C·KH·KW the length of one receptive
// field.

// convGeom is the geometry of one convolution or pooling.
type convGeom struct {
	n, c, h, w     int // input
	oc, kh, kw     int // filters
	stride, pad    int
	oh, ow, l, ckk int // output; l = oh·ow, ckk = c·kh·kw
}

func (g *convGeom) outSize(op string) {
	g.oh = (g.h+2*g.pad-g.kh)/g.stride + 1
	g.ow = (g.w+2*g.pad-g.kw)/g.stride + 1
	if g.h+2*g.pad < g.kh || g.w+2*g.pad < g.kw {
		panic(fmt.Sprintf("ad: %s: a %d×%d window does not fit a %d×%d input with padding %d", op, g.kh, g.kw, g.h, g.w, g.pad))
	}
	g.l = g.oh * g.ow
	g.ckk = g.c * g.kh * g.kw
}

// Conv2D records the two-dimensional convolution (cross-correlation, as
// PyTorch's conv2d) of the images x (N×C×H×W) with the filters w
// (OC×C×KH×KW), plus the bias b (OC elements; nil for none):
//
//	y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · x[n, c, i·s+p−pad, j·s+q−pad]
//
// with stride s ≥ 1 and zero padding pad ≥ 0 on every side, so that y is
// N×OC×OH×OW with OH = ⌊(H + 2·pad − KH)/s⌋ + 1 (likewise OW).
//
// It is computed as one matrix product over the whole batch: the receptive
// fields are unfolded into the columns of P, CKK×(N·L) ("im2col";
// Chellapilla, Puri & Simard, "High performance convolutional neural
// networks for document processing", 2006), and Y = W·P with W viewed as
// OC×CKK. The reverse and jet rules reuse the same products: P̄ = Wᵀ·Ȳ
// (folded back, "col2im"), W̄ += Ȳ·Pᵀ, and
//
//	ẏ = conv(ẋ, W) + conv(x, V) + c,   ÿ = conv(ẍ, W) + 2·conv(ẋ, V)
//
// for the tangents V = ẇ and c = ḃ. The unfolded P of the forward pass is
// kept for the reverse and jet sweeps; all scratch is reused across
// recordings at the same tape position.
func Conv2D[T Float](t *Tape[T], x, w, b *Var[T], stride, pad int) *Var[T] {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[1] {
		panic(fmt.Sprintf("ad: Conv2D: input %v does not fit weight %v (want N×C×H×W and OC×C×KH×KW)", xs, ws))
	}
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("ad: Conv2D: stride %d, padding %d: want stride ≥ 1 and padding ≥ 0", stride, pad))
	}
	if b != nil && b.Value.Len() != ws[0] {
		panic(fmt.Sprintf("ad: Conv2D: bias %v does not fit weight %v", b.Shape(), ws))
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: ws[0], kh: ws[2], kw: ws[3], stride: stride, pad: pad}
	g.outSize("Conv2D")
	shape := [4]int{g.n, g.oc, g.oh, g.ow}
	var y *Var[T]
	var op *conv2DOp[T]
	if b == nil {
		y, op = record[conv2DOp[T]](t, shape[:], x, w)
	} else {
		y, op = record[conv2DOp[T]](t, shape[:], x, w, b)
	}
	op.g = g
	return run(y)
}

// conv2DOp keeps the unfolded input P (CKK×NL, NL = N·L), an unfolded
// tangent Ṗ or P̈ (CKK×NL), the product scratch (2·OC×NL), the unfolded
// input gradient P̄ (CKK×NL) and the stacked weights [W; 2V] (2·OC×CKK).
type conv2DOp[T Float] struct {
	g               convGeom
	cols, tcols, yt []T
	gcols, wstack   []T
}

func (*conv2DOp[T]) Name() string { return "Conv2D" }

func (op *conv2DOp[T]) Forward(y *Var[T]) {
	g := &op.g
	nl := g.n * g.l
	op.cols = resize(op.cols, g.ckk*nl)
	op.yt = resize(op.yt, g.oc*nl)
	im2col(op.cols, nl, y.in[0].Value.Data(), g)
	kernel.Gemm(false, false, g.oc, nl, g.ckk, 1, y.in[1].Value.Data(), g.ckk, op.cols, nl, 0, op.yt, nl)
	var bias []T
	if len(y.in) == 3 {
		bias = y.in[2].Value.Data()
	}
	toNCHW(y.Value.Data(), op.yt, nl, bias, g)
}

// VJP, with Ȳ the output gradient as an OC×NL matrix:
//
//	W̄ += Ȳ·Pᵀ,   b̄ += Σ_columns Ȳ,   x̄ += col2im(Wᵀ·Ȳ).
func (op *conv2DOp[T]) VJP(y *Var[T]) {
	g := &op.g
	x, w := y.in[0], y.in[1]
	nl := g.n * g.l
	yt := op.yt[:g.oc*nl]
	fromNCHW(yt, y.Grad.Data(), g)
	if w.needsGrad {
		kernel.Gemm(false, true, g.oc, g.ckk, nl, 1, yt, nl, op.cols, nl, 1, w.Grad.Data(), g.ckk)
	}
	if len(y.in) == 3 && y.in[2].needsGrad {
		gb := y.in[2].Grad.Data()
		for o := range g.oc {
			gb[o] += T(kernel.Sum(yt[o*nl : (o+1)*nl]))
		}
	}
	if x.needsGrad {
		op.gcols = resize(op.gcols, g.ckk*nl)
		kernel.Gemm(true, false, g.ckk, nl, g.oc, 1, w.Value.Data(), g.ckk, yt, nl, 0, op.gcols, nl)
		col2imAdd(x.Grad.Data(), op.gcols, nl, g)
	}
}

// Jet, with V = ẇ, c = ḃ and Ṗ, P̈ the unfolded input tangents:
//
//	Ẏ = W·Ṗ + V·P + c,   Ÿ = W·P̈ + 2·V·Ṗ   (+ Ẅ·P + b̈, zero for parameters)
//
// W and 2V are stacked into one (2·OC)×CKK matrix, so that Ṗ, the large
// operand, is multiplied (and packed by the GEMM) once for both products.
// The term 2·V·Ṗ is the layer's own curvature.
func (op *conv2DOp[T]) Jet(y *Var[T], curv bool) bool {
	g := &op.g
	x, w := y.in[0], y.in[1]
	nl := g.n * g.l
	wsz := g.oc * g.ckk
	op.tcols = resize(op.tcols, g.ckk*nl)
	op.yt = resize(op.yt, 2*g.oc*nl)
	top, bot := op.yt[:g.oc*nl], op.yt[g.oc*nl:] // Ẏ and Ÿ, OC×NL each
	wv := w.Value.Data()
	wrote1, wrote2 := false, false
	if x.hasD1 {
		im2col(op.tcols, nl, x.d1.Data(), g)
		rows, a := g.oc, wv
		if curv && w.hasD1 {
			op.wstack = resize(op.wstack, 2*wsz)
			copy(op.wstack, wv)
			for i, v := range w.d1.Data() {
				op.wstack[wsz+i] = 2 * v
			}
			rows, a = 2*g.oc, op.wstack
			wrote2 = true
		}
		kernel.Gemm(false, false, rows, nl, g.ckk, 1, a, g.ckk, op.tcols, nl, 0, op.yt, nl)
		wrote1 = true
	}
	if x.hasD2 {
		im2col(op.tcols, nl, x.d2.Data(), g)
		kernel.Gemm(false, false, g.oc, nl, g.ckk, 1, wv, g.ckk, op.tcols, nl, b2f[T](wrote2), bot, nl)
		wrote2 = true
	}
	if w.hasD1 {
		kernel.Gemm(false, false, g.oc, nl, g.ckk, 1, w.d1.Data(), g.ckk, op.cols, nl, b2f[T](wrote1), top, nl)
		wrote1 = true
	}
	if w.hasD2 {
		kernel.Gemm(false, false, g.oc, nl, g.ckk, 1, w.d2.Data(), g.ckk, op.cols, nl, b2f[T](wrote2), bot, nl)
		wrote2 = true
	}
	if !wrote1 {
		clear(top)
	}
	var c1, c2 []T
	if len(y.in) == 3 && y.in[2].hasD1 {
		c1 = y.in[2].d1.Data()
	}
	if len(y.in) == 3 && y.in[2].hasD2 {
		c2 = y.in[2].d2.Data()
	}
	toNCHW(y.d1.Data(), top, nl, c1, g)
	if !wrote2 && c2 == nil {
		return false
	}
	if !wrote2 {
		clear(bot)
	}
	toNCHW(y.d2.Data(), bot, nl, c2, g)
	return true
}

// validCols returns the output columns [lo, hi) whose input column
// j·s − pad + q lies inside [0, W), for the filter column q.
func (g *convGeom) validCols(q int) (lo, hi int) {
	if d := g.pad - q; d > 0 {
		lo = (d + g.stride - 1) / g.stride
	}
	num := g.w - 1 + g.pad - q
	if num < 0 {
		return 0, 0
	}
	hi = min(g.ow, num/g.stride+1)
	return min(lo, hi), hi
}

// im2col unfolds the receptive fields of x (N×C×H×W) into the columns of
// dst, a CKK×(N·L) matrix with row stride ld: entry ((c·KH + p)·KW + q,
// n·L + i·OW + j) is x[n, c, i·s+p−pad, j·s+q−pad], or 0 in the padding.
// Each row is filled by contiguous runs along the input rows.
func im2col[T Float](dst []T, ld int, x []T, g *convGeom) {
	hw, l, ow, s := g.h*g.w, g.l, g.ow, g.stride
	for c := range g.c {
		for p := range g.kh {
			for q := range g.kw {
				r := (c*g.kh+p)*g.kw + q
				lo, hi := g.validCols(q)
				off := q - g.pad // input column of output column j is j·s + off
				for n := range g.n {
					xc := x[(n*g.c+c)*hw : (n*g.c+c+1)*hw]
					d := dst[r*ld+n*l : r*ld+(n+1)*l]
					for i := range g.oh {
						row := d[i*ow : (i+1)*ow]
						ih := i*s - g.pad + p
						if ih < 0 || ih >= g.h || lo >= hi {
							clear(row)
							continue
						}
						xr := xc[ih*g.w : (ih+1)*g.w]
						clear(row[:lo])
						clear(row[hi:])
						if s == 1 {
							copy(row[lo:hi], xr[lo+off:hi+off])
						} else {
							for j := lo; j < hi; j++ {
								row[j] = xr[j*s+off]
							}
						}
					}
				}
			}
		}
	}
}

// col2imAdd is the adjoint of im2col: it adds every entry of cols, a
// CKK×(N·L) matrix with row stride ld, into the element of dx (N×C×H×W) it
// was read from; entries that came from the padding are dropped.
func col2imAdd[T Float](dx, cols []T, ld int, g *convGeom) {
	hw, l, ow, s := g.h*g.w, g.l, g.ow, g.stride
	for c := range g.c {
		for p := range g.kh {
			for q := range g.kw {
				r := (c*g.kh+p)*g.kw + q
				lo, hi := g.validCols(q)
				if lo >= hi {
					continue
				}
				off := q - g.pad
				for n := range g.n {
					xc := dx[(n*g.c+c)*hw : (n*g.c+c+1)*hw]
					src := cols[r*ld+n*l : r*ld+(n+1)*l]
					for i := range g.oh {
						ih := i*s - g.pad + p
						if ih < 0 || ih >= g.h {
							continue
						}
						xr := xc[ih*g.w : (ih+1)*g.w]
						row := src[i*ow+lo : i*ow+hi]
						if s == 1 {
							d := xr[lo+off : hi+off]
							for j, v := range row {
								d[j] += v
							}
						} else {
							for j, v := range row {
								xr[(lo+j)*s+off] += v
							}
						}
					}
				}
			}
		}
	}
}

// toNCHW writes the OC×(N·L) product yt (row stride ld) into dst
// (N×OC×OH×OW), adding the per-channel bias when it is not nil.
func toNCHW[T Float](dst, yt []T, ld int, bias []T, g *convGeom) {
	l := g.l
	for n := range g.n {
		for o := range g.oc {
			d := dst[(n*g.oc+o)*l : (n*g.oc+o+1)*l]
			src := yt[o*ld+n*l : o*ld+(n+1)*l]
			if bias == nil {
				copy(d, src)
				continue
			}
			b := bias[o]
			for k, v := range src {
				d[k] = v + b
			}
		}
	}
}

// fromNCHW is the inverse of toNCHW without bias: it writes src
// (N×OC×OH×OW) into yt as an OC×(N·L) matrix (row stride N·L).
func fromNCHW[T Float](yt, src []T, g *convGeom) {
	l, nl := g.l, g.n*g.l
	for n := range g.n {
		for o := range g.oc {
			copy(yt[o*nl+n*l:o*nl+(n+1)*l], src[(n*g.oc+o)*l:(n*g.oc+o+1)*l])
		}
	}
}

// MaxPool2D records max pooling of x (N×C×H×W) over k×k windows with the
// given stride (no padding):
//
//	y[n,c,i,j] = max_{0≤p,q<k} x[n, c, i·s+p, j·s+q]
//
// so that y is N×C×OH×OW with OH = ⌊(H − k)/s⌋ + 1 (likewise OW), as
// PyTorch's max_pool2d with ceil_mode off. The position of each maximum is
// cached in the forward pass. Gradients and tangents flow through it alone:
// ẏ = ẋ[argmax], ÿ = ẍ[argmax], so the primitive is piecewise linear and has
// no own curvature. Kink convention: when a window holds tied maxima, the
// first in row-major order (smallest p, then smallest q) is the argmax.
func MaxPool2D[T Float](t *Tape[T], x *Var[T], k, stride int) *Var[T] {
	xs := x.Shape()
	if len(xs) != 4 {
		panic(fmt.Sprintf("ad: MaxPool2D: input %v, want N×C×H×W", xs))
	}
	if k < 1 || stride < 1 {
		panic(fmt.Sprintf("ad: MaxPool2D: window %d, stride %d: both must be ≥ 1", k, stride))
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: xs[1], kh: k, kw: k, stride: stride}
	g.outSize("MaxPool2D")
	y, op := record[maxPoolOp[T]](t, []int{g.n, g.c, g.oh, g.ow}, x)
	op.g = g
	return run(y)
}

// maxPoolOp caches, for every output element, the index into x of the
// window's maximum.
type maxPoolOp[T Float] struct {
	g   convGeom
	arg []int
}

func (*maxPoolOp[T]) Name() string { return "MaxPool2D" }

func (op *maxPoolOp[T]) Forward(y *Var[T]) {
	g := op.g // a local copy: the loops below keep its fields in registers
	x, out := y.in[0].Value.Data(), y.Value.Data()
	op.arg = resize(op.arg, len(out))
	arg := op.arg
	hw, w, k, s := g.h*g.w, g.w, g.kh, g.stride
	o := 0
	for plane := range g.n * g.c {
		base := plane * hw
		xp := x[base : base+hw]
		for i := range g.oh {
			for j := range g.ow {
				first := i*s*w + j*s
				best, bi := xp[first], first
				for p := range k {
					r := first + p*w
					for q, v := range xp[r : r+k] {
						// Split so that both updates compile without a
						// branch (random data mispredicts half the time).
						if v > best {
							bi = r + q
						}
						best = max(best, v)
					}
				}
				out[o], arg[o] = best, base+bi
				o++
			}
		}
	}
}

// VJP: x̄[argmax_i] += ȳ_i.
func (op *maxPoolOp[T]) VJP(y *Var[T]) {
	x := y.in[0]
	if !x.needsGrad {
		return
	}
	g := x.Grad.Data()
	for i, v := range y.Grad.Data() {
		g[op.arg[i]] += v
	}
}

// Jet: ẏ_i = ẋ[argmax_i], ÿ_i = ẍ[argmax_i].
func (op *maxPoolOp[T]) Jet(y *Var[T], _ bool) bool {
	x := y.in[0]
	gather := func(dst, src []T) {
		for i, a := range op.arg {
			dst[i] = src[a]
		}
	}
	if x.hasD1 {
		gather(y.d1.Data(), x.d1.Data())
	} else {
		clear(y.d1.Data())
	}
	if x.hasD2 {
		gather(y.d2.Data(), x.d2.Data())
	}
	return x.hasD2
}
