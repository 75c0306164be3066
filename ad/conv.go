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
// It is computed image by image: the receptive fields of one image are
// unfolded into the columns of P, CKK×L ("im2col"; Chellapilla, Puri &
// Simard, "High performance convolutional neural networks for document
// processing", 2006), and that image's output, OC×L in NCHW, is Y = W·P
// with W viewed as OC×CKK. One image's P stays in the core's cache (72×576
// floats, 166 KB, for the default CNN's second layer) where the whole
// batch's would not (21 MB at batch 128), and the images are spread over
// the GEMM threads (kernel.ParallelFor). The reverse and jet rules unfold P
// again instead of keeping it: P̄ = Wᵀ·Ȳ (folded back, "col2im"),
// W̄ += Σ_images Ȳ·Pᵀ, and
//
//	ẏ = conv(ẋ, W) + conv(x, V) + c,   ÿ = conv(ẍ, W) + 2·conv(ẋ, V)
//
// for the tangents V = ẇ and c = ḃ. All scratch is reused across
// recordings at the same tape position.
//
// Summation order: each output element is one dot product over CKK, the
// same as a single GEMM over the batch. W̄ and b̄ are sums over the batch:
// they are summed within fixed groups of convGroup images, then over the
// groups in order, so that the result is bit-for-bit the same for every
// thread count.
func Conv2D[T Float](t *Tape[T], x, w, b *Var[T], stride, pad int) *Var[T] {
	g := convGeometry("Conv2D", x, w, b, stride, pad)
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

// convGeometry checks the arguments of a convolution named op and returns
// its geometry.
func convGeometry[T Float](op string, x, w, b *Var[T], stride, pad int) convGeom {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[1] {
		panic(fmt.Sprintf("ad: %s: input %v does not fit weight %v (want N×C×H×W and OC×C×KH×KW)", op, xs, ws))
	}
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("ad: %s: stride %d, padding %d: want stride ≥ 1 and padding ≥ 0", op, stride, pad))
	}
	if b != nil && b.Value.Len() != ws[0] {
		panic(fmt.Sprintf("ad: %s: bias %v does not fit weight %v", op, b.Shape(), ws))
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], oc: ws[0], kh: ws[2], kw: ws[3], stride: stride, pad: pad}
	g.outSize(op)
	return g
}

// convGroup is the number of images whose weight and bias gradients are
// summed together before the groups are summed in order: a fixed size, so
// that the order of the sum does not depend on the thread count.
const convGroup = 8

// Which rule a conv2DOp's Range runs.
const (
	convForward = iota
	convVJP
	convJet
)

// conv2DOp keeps, per part of the batch (kernel.ParallelFor), the scratch
// of one image: its unfolded input P, an unfolded tangent and the unfolded
// input gradient (CKK×L each). The weight and bias gradients of each group
// of convGroup images go to wpart (groups×CKK×OC, transposed) and bpart
// (groups×OC) before they are summed into W̄ and b̄.
//
// A convReLUOp runs these rules with an epilogue (ep): ReLU, or ReLU and
// max pooling, applied to each image's product while it is in cache.
type conv2DOp[T Float] struct {
	g            convGeom
	ep           convEpilogue
	parts        []convScratch[T]
	wpart, bpart []T
	// The rule that Range runs, on y, with the jet's curvature flag.
	rule int
	y    *Var[T]
	curv bool
}

// convScratch is one thread's scratch; wide holds products in the wide
// layout (see colWidth), OC×L' or 2·OC×L'; pool an image's pooled
// outputs, or their values and gradients, position by position
// (poolReLU2T32, unpoolReLU2T32).
type convScratch[T Float] struct{ cols, tcols, gcols, wide, pool []T }

func (*conv2DOp[T]) Name() string { return "Conv2D" }

// spread runs rule over the batch on up to kernel.Threads() threads, in
// parts of whole images (Forward and Jet) or whole groups (VJP).
func (op *conv2DOp[T]) spread(rule int, y *Var[T], curv bool, n int) {
	op.rule, op.y, op.curv = rule, y, curv
	parts := min(kernel.Threads(), n)
	if len(op.parts) < parts {
		op.parts = append(op.parts, make([]convScratch[T], parts-len(op.parts))...)
	}
	kernel.ParallelFor(n, parts, op)
	op.y = nil
}

// Range runs op.rule on the images (or groups, for VJP) [lo, hi) with the
// scratch of the given part.
func (op *conv2DOp[T]) Range(part, lo, hi int) {
	s := &op.parts[part]
	switch op.rule {
	case convForward:
		for n := lo; n < hi; n++ {
			op.forwardImage(s, n)
		}
	case convVJP:
		for grp := lo; grp < hi; grp++ {
			op.vjpGroup(s, grp)
		}
	case convJet:
		for n := lo; n < hi; n++ {
			op.jetImage(s, n)
		}
	}
}

func (op *conv2DOp[T]) Forward(y *Var[T]) {
	if op.ep.pool > 0 {
		op.ep.arg = resize(op.ep.arg, y.Value.Len())
		_, f32 := any(y.Value.Data()).([]float32)
		op.ep.posMajor = f32 && op.ep.pool == 2 && op.transposed() && len(y.in) == 3
	}
	op.spread(convForward, y, false, op.g.n)
}

// forwardImage: Y_n = W·P_n (+ b, per row).
func (op *conv2DOp[T]) forwardImage(s *convScratch[T], n int) {
	g, y := &op.g, op.y
	in, out, cw := g.c*g.h*g.w, op.outLen(), g.colWidth()
	s.cols = resize(s.cols, g.ckk*cw)
	unfold(s.cols, y.in[0].Value.Data()[n*in:(n+1)*in], g)
	yn := y.Value.Data()[n*out : (n+1)*out]
	dst := yn
	if cw != g.l || op.ep.pool > 0 || op.transposed() {
		s.wide = resize(s.wide, g.oc*cw)
		dst = s.wide
	}
	op.product(1, y.in[1].Value.Data(), s.cols, 0, dst)
	var bias []T
	if len(y.in) == 3 {
		bias = y.in[2].Value.Data()
	}
	switch {
	case op.ep.pool > 0:
		poolReLU(yn, op.ep.arg[n*out:(n+1)*out], dst, bias, g, &op.ep, op.layout(), s)
	case op.ep.relu:
		placeReLU(yn, dst, bias, g, op.layout())
	default:
		place(yn, dst, bias, g)
	}
}

// transposed reports whether the forward and jet rules compute each
// image's product transposed, Zᵀ = Pᵀ·Wᵀ (colWidth × OC): for a fused
// epilogue (which reads the product once more anyway) with at least 16
// channels. The GEMM kernel then reads P in place instead of packing all
// of it, and packs only the small W. Every element is the same chain of
// fused multiply-adds either way, so the result does not change (with
// this module's kernels; under the openblas build tag OpenBLAS may sum a
// product and its transpose in different orders).
func (op *conv2DOp[T]) transposed() bool { return op.ep.relu && op.g.oc >= 16 }

// layout is the layout of the products of transposed.
func (op *conv2DOp[T]) layout() prodLayout {
	if op.transposed() {
		return prodLayout{so: 1, sc: op.g.oc}
	}
	return prodLayout{so: op.g.colWidth(), sc: 1}
}

// product computes out = alpha·Wm·P + beta·out for one image, with Wm
// (OC×CKK) a weight or one of its tangents and P = cols (CKK × colWidth)
// the unfolded input or one of its tangents, in the layout of op.layout.
func (op *conv2DOp[T]) product(alpha T, wm, cols []T, beta T, out []T) {
	g := &op.g
	cw := g.colWidth()
	if op.transposed() {
		kernel.GemmOneThread(true, true, cw, g.oc, g.ckk, alpha, cols, cw, wm, g.ckk, beta, out, g.oc)
		return
	}
	kernel.GemmOneThread(false, false, g.oc, cw, g.ckk, alpha, wm, g.ckk, cols, cw, beta, out, cw)
}

// outLen is the number of output elements per image: OC·L, or OC·PH·PW
// after pooling.
func (op *conv2DOp[T]) outLen() int {
	if op.ep.pool > 0 {
		return op.g.oc * op.ep.ph * op.ep.pw
	}
	return op.g.oc * op.g.l
}

// addRowBias adds bias[o] to row o of the matrix m (rows of length l).
func addRowBias[T Float](m []T, l int, bias []T) {
	for o, b := range bias {
		row := m[o*l : (o+1)*l]
		for k := range row {
			row[k] += b
		}
	}
}

// VJP, with Ȳ_n the output gradient of image n as an OC×L matrix:
//
//	W̄ += Σ_n Ȳ_n·P_nᵀ,   b̄ += Σ_n Σ_columns Ȳ_n,   x̄_n += col2im(Wᵀ·Ȳ_n).
func (op *conv2DOp[T]) VJP(y *Var[T]) {
	g := &op.g
	groups := (g.n + convGroup - 1) / convGroup
	if y.in[1].needsGrad {
		op.wpart = resize(op.wpart, groups*g.oc*g.ckk)
	}
	hasB := len(y.in) == 3 && y.in[2].needsGrad
	if hasB {
		op.bpart = resize(op.bpart, groups*g.oc)
	}
	op.spread(convVJP, y, false, groups)
	if w := y.in[1]; w.needsGrad {
		gw, wsz := w.Grad.Data(), g.oc*g.ckk
		for grp := range groups {
			wt := op.wpart[grp*wsz : (grp+1)*wsz] // W̄ᵀ of the group, CKK×OC
			for o := range g.oc {
				row := gw[o*g.ckk : (o+1)*g.ckk]
				for k := range row {
					row[k] += wt[k*g.oc+o]
				}
			}
		}
	}
	if hasB {
		gb := y.in[2].Grad.Data()
		for grp := range groups {
			for o, v := range op.bpart[grp*g.oc : (grp+1)*g.oc] {
				gb[o] += v
			}
		}
	}
}

// f32Slice is s as []float32 (T is float32 where it is called), nil for nil.
func f32Slice[T Float](s []T) []float32 {
	if s == nil {
		return nil
	}
	return any(s).([]float32)
}

// rowDotsMaxOC is the largest number of output channels whose weight
// gradient, in float32, runs as kernel.RowDots32 (each image's W̄ᵀ = P·Ȳᵀ,
// CKK×OC, is then OC·CKK sums along the rows of P and Ȳ) instead of a
// GEMM, which pads OC to 16 columns and CKK to its 12- or 16-row tile
// (the default CNN's first layer, 9×8: 2.7× the work, and 9.5× the time).
const rowDotsMaxOC = 8

// vjpGroup runs the reverse rule for the images of group grp, writing the
// group's weight and bias gradients to its slices of wpart and bpart.
func (op *conv2DOp[T]) vjpGroup(s *convScratch[T], grp int) {
	g, y := &op.g, op.y
	x, w := y.in[0], y.in[1]
	hasB := len(y.in) == 3 && y.in[2].needsGrad
	in, out, wsz, cw := g.c*g.h*g.w, op.outLen(), g.oc*g.ckk, g.colWidth()
	var wp, bp []T
	if w.needsGrad {
		wp = op.wpart[grp*wsz : (grp+1)*wsz]
		s.cols = resize(s.cols, g.ckk*cw)
	}
	if hasB {
		bp = op.bpart[grp*g.oc : (grp+1)*g.oc]
		clear(bp)
	}
	if x.needsGrad {
		s.gcols = resize(s.gcols, g.ckk*cw)
	}
	lo, hi := grp*convGroup, min((grp+1)*convGroup, g.n)
	for n := lo; n < hi; n++ {
		yn := y.Grad.Data()[n*out : (n+1)*out]
		yw := yn    // Ȳ_n (of the product) in the layout of the unfolded input, OC×cw
		var ywT []T // Ȳ_nᵀ (cw×OC), when the pooling writes it too
		switch {
		case op.ep.posMajor:
			// Only Ȳᵀ: the input gradient's GEMM packs it transposed.
			s.wide = resize(s.wide, g.oc*cw)
			s.pool = resize(s.pool, 2*out)
			ywT = s.wide
			unpoolReLU2T32(any(ywT).([]float32), f32Slice(bp), any(yn).([]float32), any(y.Value.Data()[n*out:(n+1)*out]).([]float32), op.ep.arg[n*out:(n+1)*out], g, &op.ep, any(s.pool).([]float32))
		case op.ep.pool > 0:
			s.wide = resize(s.wide, 2*g.oc*cw)
			yw = s.wide[:g.oc*cw]
			if w.needsGrad && op.transposed() {
				ywT = s.wide[g.oc*cw:]
			}
			unpoolReLU(yw, ywT, bp, yn, y.Value.Data()[n*out:(n+1)*out], op.ep.arg[n*out:(n+1)*out], op.ep.ph*op.ep.pw, cw)
		case op.ep.relu:
			s.wide = resize(s.wide, g.oc*cw)
			yw = s.wide
			widenReLU(yw, bp, yn, y.Value.Data()[n*out:(n+1)*out], g)
		case cw != g.l:
			s.wide = resize(s.wide, g.oc*cw)
			yw = s.wide
			widen(yw, yn, g)
		}
		if w.needsGrad {
			// W̄ᵀ = P·Ȳᵀ (CKK×OC): the kernel reads P in place and packs
			// only the smaller Ȳ.
			unfold(s.cols, x.Value.Data()[n*in:(n+1)*in], g)
			if ywT != nil {
				// The same product from Ȳᵀ, whose packing is one copy.
				kernel.GemmOneThread(false, false, g.ckk, g.oc, cw, 1, s.cols, cw, ywT, g.oc, b2f[T](n > lo), wp, g.oc)
			} else if c32, f32 := any(s.cols).([]float32); f32 && g.oc <= rowDotsMaxOC {
				// Few channels: the GEMM would pad the product to its
				// register tile; sums of rows, in place, instead.
				kernel.RowDots32(g.ckk, g.oc, cw, c32, cw, any(yw).([]float32), cw, any(wp).([]float32), g.oc, n > lo)
			} else {
				kernel.GemmOneThread(false, true, g.ckk, g.oc, cw, 1, s.cols, cw, yw, cw, b2f[T](n > lo), wp, g.oc)
			}
		}
		if hasB && !op.ep.relu { // the epilogues above add their own
			for o := range g.oc {
				bp[o] += T(kernel.Sum(yn[o*g.l : (o+1)*g.l]))
			}
		}
		if x.needsGrad {
			if op.ep.posMajor {
				kernel.GemmOneThread(true, true, g.ckk, cw, g.oc, 1, w.Value.Data(), g.ckk, ywT, g.oc, 0, s.gcols, cw)
			} else {
				kernel.GemmOneThread(true, false, g.ckk, cw, g.oc, 1, w.Value.Data(), g.ckk, yw, cw, 0, s.gcols, cw)
			}
			foldAdd(x.Grad.Data()[n*in:(n+1)*in], s.gcols, g)
		}
	}
}

// Jet, with V = ẇ, c = ḃ and Ṗ, P̈ the unfolded input tangents, image by
// image:
//
//	Ẏ = W·Ṗ + V·P + c,   Ÿ = W·P̈ + 2·V·Ṗ   (+ Ẅ·P + b̈, zero for parameters)
//
// The term 2·V·Ṗ is the layer's own curvature.
func (op *conv2DOp[T]) Jet(y *Var[T], curv bool) bool {
	x, w := y.in[0], y.in[1]
	op.spread(convJet, y, curv, op.g.n)
	return x.hasD2 || w.hasD2 || (x.hasD1 && curv && w.hasD1) || (len(y.in) == 3 && y.in[2].hasD2)
}

// jetImage runs the jet rule for image n.
func (op *conv2DOp[T]) jetImage(s *convScratch[T], n int) {
	g, y, curv := &op.g, op.y, op.curv
	x, w := y.in[0], y.in[1]
	in, out, cw := g.c*g.h*g.w, op.outLen(), g.colWidth()
	top := y.d1.Data()[n*out : (n+1)*out] // Ẏ_n and Ÿ_n, OC×L (or OC×PH×PW) each
	var bot []T
	if y.d2 != nil {
		bot = y.d2.Data()[n*out : (n+1)*out]
	}
	wtop, wbot := top, bot // the products, OC×cw each
	if cw != g.l || op.ep.relu {
		s.wide = resize(s.wide, 2*g.oc*cw)
		wtop, wbot = s.wide[:g.oc*cw], s.wide[g.oc*cw:]
	}
	wv := w.Value.Data()
	wrote1, wrote2 := false, false
	if x.hasD1 {
		s.tcols = resize(s.tcols, g.ckk*cw)
		unfold(s.tcols, x.d1.Data()[n*in:(n+1)*in], g)
		op.product(1, wv, s.tcols, 0, wtop)
		wrote1 = true
		if curv && w.hasD1 {
			op.product(2, w.d1.Data(), s.tcols, 0, wbot)
			wrote2 = true
		}
	}
	if x.hasD2 {
		s.tcols = resize(s.tcols, g.ckk*cw)
		unfold(s.tcols, x.d2.Data()[n*in:(n+1)*in], g)
		op.product(1, wv, s.tcols, b2f[T](wrote2), wbot)
		wrote2 = true
	}
	if w.hasD1 || w.hasD2 {
		s.cols = resize(s.cols, g.ckk*cw)
		unfold(s.cols, x.Value.Data()[n*in:(n+1)*in], g)
	}
	if w.hasD1 {
		op.product(1, w.d1.Data(), s.cols, b2f[T](wrote1), wtop)
		wrote1 = true
	}
	if w.hasD2 {
		op.product(1, w.d2.Data(), s.cols, b2f[T](wrote2), wbot)
		wrote2 = true
	}
	var c1, c2 []T
	if len(y.in) == 3 && y.in[2].hasD1 {
		c1 = y.in[2].d1.Data()
	}
	if len(y.in) == 3 && y.in[2].hasD2 {
		c2 = y.in[2].d2.Data()
	}
	if !wrote1 {
		clear(wtop)
	}
	yv := y.Value.Data()[n*out : (n+1)*out]
	op.placeTangent(top, wtop, c1, yv, n)
	if !wrote2 && c2 == nil {
		return
	}
	if !wrote2 {
		clear(wbot)
	}
	op.placeTangent(bot, wbot, c2, yv, n)
}

// placeTangent writes a tangent of image n's product, src (OC × colWidth,
// or transposed: op.layout), plus the bias tangent c (nil for none) into
// dst, through the epilogue:
// ReLU passes it where the output yv is positive, pooling takes it at the
// window's maximum.
func (op *conv2DOp[T]) placeTangent(dst, src, c, yv []T, n int) {
	switch {
	case op.ep.pool > 0:
		out := len(dst)
		gatherReLU(dst, src, c, yv, op.ep.arg[n*out:(n+1)*out], op.ep.ph*op.ep.pw, op.layout(), &op.ep)
	case op.ep.relu:
		placeMasked(dst, src, c, yv, &op.g, op.layout())
	default:
		place(dst, src, c, &op.g)
	}
}

// colWidth is the number of columns of one image's unfolded input: L, or,
// for stride 1 without padding, L' = (OH−1)·W + OW, the "wide" layout in
// which output position (i, j) is column i·W + j. There, row (c, p, q) of
// the unfolded input is the contiguous run x[c, p, q :][:L'] of the image
// (one copy per row instead of one per output row), and the W − OW columns
// after each output row hold values no output uses: the products put them
// aside (place), and the reverse rule gives them a zero gradient (widen).
func (g *convGeom) colWidth() int {
	if g.stride == 1 && g.pad == 0 {
		return (g.oh-1)*g.w + g.ow
	}
	return g.l
}

// unfold writes the unfolded input of one image x (C×H×W) into dst
// (CKK × colWidth).
func unfold[T Float](dst, x []T, g *convGeom) {
	cw := g.colWidth()
	if cw == g.l {
		one := *g
		one.n = 1
		im2col(dst, cw, x, &one)
		return
	}
	hw := g.h * g.w
	for c := range g.c {
		for p := range g.kh {
			for q := range g.kw {
				r := (c*g.kh+p)*g.kw + q
				copy(dst[r*cw:(r+1)*cw], x[c*hw+p*g.w+q:][:cw])
			}
		}
	}
}

// foldAdd is the adjoint of unfold: it adds every entry of cols (CKK ×
// colWidth) into the element of dx (one image, C×H×W) it was read from.
// In the wide layout each row is one contiguous run (kernel.Axpy with
// α = 1: the same sums as a loop of +=, in the same order).
func foldAdd[T Float](dx, cols []T, g *convGeom) {
	cw := g.colWidth()
	if cw == g.l {
		one := *g
		one.n = 1
		col2imAdd(dx, cols, cw, &one)
		return
	}
	hw := g.h * g.w
	for c := range g.c {
		for p := range g.kh {
			for q := range g.kw {
				r := (c*g.kh+p)*g.kw + q
				kernel.Axpy(1, cols[r*cw:(r+1)*cw], dx[c*hw+p*g.w+q:][:cw])
			}
		}
	}
}

// place writes the product src (OC × colWidth) of one image into dst
// (OC×OH×OW), adding the per-channel bias when it is not nil; in the
// L-wide layout src is dst and only the bias is added.
func place[T Float](dst, src, bias []T, g *convGeom) {
	cw := g.colWidth()
	if cw == g.l {
		if bias != nil {
			addRowBias(dst, g.l, bias)
		}
		return
	}
	for o := range g.oc {
		var b T
		if bias != nil {
			b = bias[o]
		}
		for i := range g.oh {
			d := dst[o*g.l+i*g.ow:][:g.ow]
			sr := src[o*cw+i*g.w:][:g.ow]
			if bias == nil {
				copy(d, sr)
				continue
			}
			for j, v := range sr {
				d[j] = v + b
			}
		}
	}
}

// widen writes src (OC×OH×OW, one image's output gradient) into dst in the
// wide layout (OC × colWidth), with zeros in the columns no output uses.
func widen[T Float](dst, src []T, g *convGeom) {
	cw := g.colWidth()
	for o := range g.oc {
		for i := range g.oh {
			d := dst[o*cw+i*g.w:]
			copy(d[:g.ow], src[o*g.l+i*g.ow:][:g.ow])
			if i < g.oh-1 {
				clear(d[g.ow:g.w])
			}
		}
	}
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
						if lo > 0 {
							clear(row[:lo])
						}
						if hi < ow {
							clear(row[hi:])
						}
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
							d = d[:len(row)] // drops the bounds checks below
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
// window's maximum. x, out and per (planes per part) hold the arguments of
// the forward pass while Range splits it over the threads.
type maxPoolOp[T Float] struct {
	g      convGeom
	arg    []int
	x, out []T
	per    int
}

func (*maxPoolOp[T]) Name() string { return "MaxPool2D" }

func (op *maxPoolOp[T]) Forward(y *Var[T]) {
	g := &op.g
	op.x, op.out = y.in[0].Value.Data(), y.Value.Data()
	op.arg = resize(op.arg, len(op.out))
	planes := g.n * g.c
	// Parts of whole planes of at least elemChunk input elements each.
	per := max(1, elemChunk/(g.h*g.w))
	if parts := planes / per; parts >= 2 && kernel.Threads() >= 2 {
		op.per = per
		kernel.ParallelFor(parts, parts, op)
	} else {
		op.planes(0, planes)
	}
	op.x, op.out = nil, nil
}

// Range pools the planes of the parts [lo, hi) of op.per planes (the last
// part takes the rest).
func (op *maxPoolOp[T]) Range(_, lo, hi int) {
	end := hi * op.per
	if planes := op.g.n * op.g.c; end+op.per > planes {
		end = planes
	}
	op.planes(lo*op.per, end)
}

// planes pools the planes [lo, hi) of x (plane = image·C + channel).
func (op *maxPoolOp[T]) planes(lo, hi int) {
	g := op.g // a local copy: the loops below keep its fields in registers
	x, out, arg := op.x, op.out, op.arg
	hw, w, k, s := g.h*g.w, g.w, g.kh, g.stride
	if k == 2 && s == 2 {
		maxPool2x2(out, arg, x, &g, lo, hi)
		return
	}
	o := lo * g.oh * g.ow
	for plane := lo; plane < hi; plane++ {
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

// maxPool2x2 is planes for 2×2 windows with stride 2 (the common case),
// the window unrolled: the same maxima, and the same argmax at ties (the
// first of a, b, c, d in row-major order).
func maxPool2x2[T Float](out []T, arg []int, x []T, g *convGeom, lo, hi int) {
	hw, w, oh, ow := g.h*g.w, g.w, g.oh, g.ow
	o := lo * oh * ow
	for plane := lo; plane < hi; plane++ {
		base := plane * hw
		for i := range oh {
			r0 := x[base+2*i*w : base+2*i*w+2*ow]
			r1 := x[base+(2*i+1)*w : base+(2*i+1)*w+2*ow]
			orow, arow := out[o:o+ow], arg[o:o+ow]
			first := base + 2*i*w
			for j := range orow {
				a, b, c, d := r0[2*j], r0[2*j+1], r1[2*j], r1[2*j+1]
				best, bi := a, first+2*j
				// Branch-free updates, as in Forward.
				if b > best {
					bi = first + 2*j + 1
				}
				best = max(best, b)
				if c > best {
					bi = first + w + 2*j
				}
				best = max(best, c)
				if d > best {
					bi = first + w + 2*j + 1
				}
				best = max(best, d)
				orow[j], arow[j] = best, bi
			}
			o += ow
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
