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
// fields are unfolded into the rows of P, (N·L)×CKK ("im2col"; Chellapilla,
// Puri & Simard, "High performance convolutional neural networks for
// document processing", 2006), and Yᵀ = P·Wᵀ with W viewed as OC×CKK, the
// product of a fully-connected layer. The reverse and jet rules reuse the
// same products: P̄ = Ȳ·W (folded back, "col2im"), W̄ += Ȳᵀ·P, and
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

// conv2DOp keeps the unfolded input P ((N·L)×CKK), the unfolded tangents
// [Ṗ; P̈] (2·N·L×CKK), the product scratch (2·N·L×OC) and the unfolded
// input gradient P̄ ((N·L)×CKK).
type conv2DOp[T Float] struct {
	g               convGeom
	cols, tcols, yt []T
	gcols           []T
}

func (*conv2DOp[T]) Name() string { return "Conv2D" }

func (op *conv2DOp[T]) Forward(y *Var[T]) {
	g := &op.g
	nl := g.n * g.l
	op.cols = resize(op.cols, nl*g.ckk)
	op.yt = resize(op.yt, nl*g.oc)
	im2col(op.cols, y.in[0].Value.Data(), g)
	kernel.Gemm(false, true, nl, g.oc, g.ckk, 1, op.cols, g.ckk, y.in[1].Value.Data(), g.ckk, 0, op.yt, g.oc)
	var bias []T
	if len(y.in) == 3 {
		bias = y.in[2].Value.Data()
	}
	toNCHW(y.Value.Data(), op.yt, bias, g)
}

// VJP, with Ȳ the output gradient as an (N·L)×OC matrix:
//
//	W̄ += Ȳᵀ·P,   b̄ += Σ_rows Ȳ,   x̄ += col2im(Ȳ·W).
func (op *conv2DOp[T]) VJP(y *Var[T]) {
	g := &op.g
	x, w := y.in[0], y.in[1]
	nl := g.n * g.l
	gy := y.Grad.Data()
	fromNCHW(op.yt[:nl*g.oc], gy, g)
	if w.needsGrad {
		kernel.Gemm(true, false, g.oc, g.ckk, nl, 1, op.yt, g.oc, op.cols, g.ckk, 1, w.Grad.Data(), g.ckk)
	}
	if len(y.in) == 3 && y.in[2].needsGrad {
		gb := y.in[2].Grad.Data()
		for n := range g.n {
			for o := range g.oc {
				row := gy[(n*g.oc+o)*g.l : (n*g.oc+o+1)*g.l]
				gb[o] += T(kernel.Sum(row))
			}
		}
	}
	if x.needsGrad {
		op.gcols = resize(op.gcols, nl*g.ckk)
		kernel.Gemm(false, false, nl, g.ckk, g.oc, 1, op.yt, g.oc, w.Value.Data(), g.ckk, 0, op.gcols, g.ckk)
		col2imAdd(x.Grad.Data(), op.gcols, g)
	}
}

// Jet, with V = ẇ, c = ḃ and Ṗ, P̈ the unfolded input tangents:
//
//	Ẏᵀ = Ṗ·Wᵀ + P·Vᵀ + c,   Ÿᵀ = P̈·Wᵀ + 2·Ṗ·Vᵀ   (+ P·Ẅᵀ + b̈, zero for parameters)
//
// When x has both tangents, Ṗ and P̈ are stacked and multiplied by Wᵀ in one
// product. The term 2·Ṗ·Vᵀ is the layer's own curvature.
func (op *conv2DOp[T]) Jet(y *Var[T], curv bool) bool {
	g := &op.g
	x, w := y.in[0], y.in[1]
	nl := g.n * g.l
	sz := nl * g.ckk
	op.tcols = resize(op.tcols, 2*sz)
	op.yt = resize(op.yt, 2*nl*g.oc)
	top, bot := op.yt[:nl*g.oc], op.yt[nl*g.oc:]
	if x.hasD1 {
		im2col(op.tcols[:sz], x.d1.Data(), g)
	}
	if x.hasD2 {
		im2col(op.tcols[sz:], x.d2.Data(), g)
	}
	wv := w.Value.Data()
	switch {
	case x.hasD1 && x.hasD2:
		kernel.Gemm(false, true, 2*nl, g.oc, g.ckk, 1, op.tcols, g.ckk, wv, g.ckk, 0, op.yt, g.oc)
	case x.hasD1:
		kernel.Gemm(false, true, nl, g.oc, g.ckk, 1, op.tcols[:sz], g.ckk, wv, g.ckk, 0, top, g.oc)
	case x.hasD2:
		kernel.Gemm(false, true, nl, g.oc, g.ckk, 1, op.tcols[sz:], g.ckk, wv, g.ckk, 0, bot, g.oc)
	}
	// First tangent.
	wrote1 := x.hasD1
	if w.hasD1 {
		kernel.Gemm(false, true, nl, g.oc, g.ckk, 1, op.cols, g.ckk, w.d1.Data(), g.ckk, b2f[T](wrote1), top, g.oc)
		wrote1 = true
	}
	if !wrote1 {
		clear(top)
	}
	var c1 []T
	if len(y.in) == 3 && y.in[2].hasD1 {
		c1 = y.in[2].d1.Data()
	}
	toNCHW(y.d1.Data(), top, c1, g)
	// Second tangent.
	wrote2 := x.hasD2
	if curv && x.hasD1 && w.hasD1 {
		kernel.Gemm(false, true, nl, g.oc, g.ckk, 2, op.tcols[:sz], g.ckk, w.d1.Data(), g.ckk, b2f[T](wrote2), bot, g.oc)
		wrote2 = true
	}
	if w.hasD2 {
		kernel.Gemm(false, true, nl, g.oc, g.ckk, 1, op.cols, g.ckk, w.d2.Data(), g.ckk, b2f[T](wrote2), bot, g.oc)
		wrote2 = true
	}
	var c2 []T
	if len(y.in) == 3 && y.in[2].hasD2 {
		c2 = y.in[2].d2.Data()
	}
	if !wrote2 && c2 == nil {
		return false
	}
	if !wrote2 {
		clear(bot)
	}
	toNCHW(y.d2.Data(), bot, c2, g)
	return true
}

// im2col unfolds the receptive fields of x (N×C×H×W) into the rows of dst,
// (N·L)×CKK: row n·L + i·OW + j holds the window of output position (i, j)
// of image n, ordered (c, p, q) like a row of the weight; positions in the
// padding are 0.
func im2col[T Float](dst, x []T, g *convGeom) {
	hw := g.h * g.w
	for n := range g.n {
		xn := x[n*g.c*hw : (n+1)*g.c*hw]
		for i := range g.oh {
			ih0 := i*g.stride - g.pad
			for j := range g.ow {
				iw0 := j*g.stride - g.pad
				row := dst[((n*g.oh+i)*g.ow+j)*g.ckk:][:g.ckk]
				inside := iw0 >= 0 && iw0+g.kw <= g.w
				k := 0
				for c := range g.c {
					xc := xn[c*hw : (c+1)*hw]
					for p := range g.kh {
						seg := row[k : k+g.kw]
						k += g.kw
						ih := ih0 + p
						if ih < 0 || ih >= g.h {
							clear(seg)
							continue
						}
						xr := xc[ih*g.w : (ih+1)*g.w]
						if inside {
							copy(seg, xr[iw0:iw0+g.kw])
							continue
						}
						for q := range seg {
							if iw := iw0 + q; iw >= 0 && iw < g.w {
								seg[q] = xr[iw]
							} else {
								seg[q] = 0
							}
						}
					}
				}
			}
		}
	}
}

// col2imAdd is the adjoint of im2col: it adds every entry of cols,
// (N·L)×CKK, into the element of dx (N×C×H×W) it was read from; entries
// that came from the padding are dropped.
func col2imAdd[T Float](dx, cols []T, g *convGeom) {
	hw := g.h * g.w
	for n := range g.n {
		xn := dx[n*g.c*hw : (n+1)*g.c*hw]
		for i := range g.oh {
			ih0 := i*g.stride - g.pad
			for j := range g.ow {
				iw0 := j*g.stride - g.pad
				row := cols[((n*g.oh+i)*g.ow+j)*g.ckk:][:g.ckk]
				k := 0
				for c := range g.c {
					xc := xn[c*hw : (c+1)*hw]
					for p := range g.kh {
						seg := row[k : k+g.kw]
						k += g.kw
						ih := ih0 + p
						if ih < 0 || ih >= g.h {
							continue
						}
						xr := xc[ih*g.w : (ih+1)*g.w]
						for q, v := range seg {
							if iw := iw0 + q; iw >= 0 && iw < g.w {
								xr[iw] += v
							}
						}
					}
				}
			}
		}
	}
}

// toNCHW writes the (N·L)×OC product yt into dst (N×OC×OH×OW), adding the
// per-channel bias when it is not nil.
func toNCHW[T Float](dst, yt, bias []T, g *convGeom) {
	for n := range g.n {
		src := yt[n*g.l*g.oc : (n+1)*g.l*g.oc]
		for o := range g.oc {
			d := dst[(n*g.oc+o)*g.l : (n*g.oc+o+1)*g.l]
			var b T
			if bias != nil {
				b = bias[o]
			}
			for l := range d {
				d[l] = src[l*g.oc+o] + b
			}
		}
	}
}

// fromNCHW is the transpose of toNCHW without bias: it writes src
// (N×OC×OH×OW) into yt as an (N·L)×OC matrix.
func fromNCHW[T Float](yt, src []T, g *convGeom) {
	for n := range g.n {
		d := yt[n*g.l*g.oc : (n+1)*g.l*g.oc]
		for o := range g.oc {
			s := src[(n*g.oc+o)*g.l : (n*g.oc+o+1)*g.l]
			for l, v := range s {
				d[l*g.oc+o] = v
			}
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
	g := &op.g
	x, out := y.in[0].Value.Data(), y.Value.Data()
	op.arg = resize(op.arg, len(out))
	hw := g.h * g.w
	o := 0
	for plane := range g.n * g.c {
		base := plane * hw
		xp := x[base : base+hw]
		for i := range g.oh {
			for j := range g.ow {
				first := i*g.stride*g.w + j*g.stride
				best, bi := xp[first], first
				for p := range g.kh {
					r := first + p*g.w
					for q, v := range xp[r : r+g.kw] {
						if v > best {
							best, bi = v, r+q
						}
					}
				}
				out[o], op.arg[o] = best, base+bi
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
