package ad

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/genopt/gen/internal/numcheck"
	"github.com/genopt/gen/tensor"
)

// Tolerances of the primitive checks (float64):
const (
	// tolVJP bounds the norm-wise relative error of the VJP against central
	// differences with step fdStep (truncation ~1e-12, rounding ~1e-10).
	tolVJP = 1e-6
	fdStep = 1e-6
	// tolJet1 bounds |ḟ − ∇f·u|: both are exact up to rounding.
	tolJet1 = 1e-10
	// tolJet2 bounds the relative error of f̈ against Richardson-extrapolated
	// second differences of α ↦ f(θ + α·u) with step jetStep.
	tolJet2 = 1e-5
	jetStep = 1e-3
	// tolGN bounds the relative error of the Gauss–Newton term against its
	// closed form: both are sums of a few dozen float64 products.
	tolGN = 1e-12
)

// primCase is one primitive under test: random inputs, which of them are
// data, and how to record the primitive on them.
type primCase struct {
	name   string // the Go type of the primitive, e.g. "linearOp"
	shapes [][]int
	data   []bool // data inputs get no gradient and no tangent
	// fill optionally overwrites the random inputs (to stay off kinks).
	fill  func(r *rand.Rand, in []*tensor.Tensor[float64])
	build func(t *Tape[float64], in []*Var[float64]) *Var[float64]
	// linear marks a case whose output is linear in the parameters, so
	// that its second tangent may be zero (D2 nil); every other case must
	// produce one.
	linear bool
	// pre optionally checks the recorded output y (e.g. that the
	// primitive's input takes both signs away from kinks).
	pre func(t *testing.T, y *Var[float64])
	// gn is the closed form of the Gauss–Newton second term of
	// f = Σ R ⊙ y for a case whose graph holds a loss primitive, from the
	// inputs (vals, data included), the directions on the parameters (in
	// order) and the weights R. Cases without a loss primitive have none:
	// their Gauss–Newton term must be exactly 0.
	gn func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64
}

var primCases []primCase

func addCases(cs ...primCase) { primCases = append(primCases, cs...) }

func init() {
	acts := []Act{{Kind: Identity}, {Kind: ReLU}, {Kind: LeakyReLU, Slope: 0.1}, {Kind: Tanh}, {Kind: Sigmoid}, {Kind: GELU}, {Kind: SiLU}, {Kind: Softplus}}
	for _, a := range acts {
		addCases(primCase{
			name: "actOp/" + a.String(), shapes: [][]int{{3, 4}},
			fill: bothSigns,
			build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				// z = x² + 3x: a nonzero second tangent 2u² enters σ, and
				// bothSigns makes z take both signs, |z| ≥ 0.64.
				z := Add(t, Mul(t, in[0], in[0]), Scale(t, in[0], actShift))
				return Activate(t, z, a)
			},
			pre: preActivationBothSigns,
		})
	}
	labels := []int{2, 0, 1}
	addCases(
		primCase{name: "linearOp/bias", shapes: [][]int{{3, 4}, {5, 4}, {5}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Linear(t, Activate(t, in[0], Act{Kind: Tanh}), in[1], in[2])
		}},
		primCase{name: "linearOp/nobias-data-input", shapes: [][]int{{3, 4}, {5, 4}}, data: []bool{true, false}, linear: true, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Linear(t, in[0], in[1], nil)
		}},
		primCase{name: "addOp/add", shapes: [][]int{{2, 3}, {2, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Add(t, Mul(t, in[0], in[1]), in[1])
		}},
		primCase{name: "addOp/sub", shapes: [][]int{{2, 3}, {2, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Sub(t, in[0], Mul(t, in[1], in[0]))
		}},
		primCase{name: "mulOp", shapes: [][]int{{2, 3}, {2, 3}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Mul(t, in[0], in[1])
		}},
		primCase{name: "scaleOp", shapes: [][]int{{4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Scale(t, Mul(t, in[0], in[0]), -1.5)
		}},
		primCase{name: "sumOp", shapes: [][]int{{2, 2}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Sum(t, Mul(t, in[0], in[0]))
		}},
		primCase{name: "reshapeOp", shapes: [][]int{{2, 6}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Reshape(t, Mul(t, in[0], in[0]), 3, -1)
		}},
		// The loss cases feed the loss with z = x⊙x, whose own curvature
		// (z̈ = 2u⊙u) Gauss–Newton drops: there only the loss's own
		// curvature in ż = 2x⊙u remains, times the weight R of the check's
		// scalar Σ R ⊙ y.
		primCase{name: "sqErrOp/mse", shapes: [][]int{{3, 2}, {3, 2}}, data: []bool{false, true}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return MeanSquaredError(t, Mul(t, in[0], in[0]), in[1].Value)
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			// L = 1/(MK)·Σ e², L̈_GN = 2/(MK)·‖ż‖².
			return R.Item() * 2 / float64(vals[0].Len()) * sqNorm(squareTangent(vals[0], dirs[0]))
		}},
		primCase{name: "sqErrOp/half-sq", shapes: [][]int{{3, 2}, {3, 2}}, data: []bool{false, true}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return HalfSquaredError(t, Mul(t, in[0], in[0]), in[1].Value)
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			// L = 1/(2M)·Σ e², L̈_GN = 1/M·‖ż‖².
			return R.Item() / float64(vals[0].Rows()) * sqNorm(squareTangent(vals[0], dirs[0]))
		}},
		primCase{name: "sqErrOp/half-sq-direct", shapes: [][]int{{4, 3}, {4, 3}}, data: []bool{false, true}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return HalfSquaredError(t, in[0], in[1].Value)
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			// Fed by the parameter itself: G = H = I/M, uᵀGu = ‖u‖²/M.
			return R.Item() / float64(vals[0].Rows()) * sqNorm(dirs[0].Data())
		}},
		primCase{name: "softmaxCEOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return SoftmaxCrossEntropy(t, Mul(t, in[0], in[0]), labels)
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			// L̈_GN = 1/M·Σ_i Var_{p_i}(ż_i), p_i = softmax(z_i).
			q := rowVariances(vals[0], dirs[0])
			var s float64
			for _, v := range q {
				s += v
			}
			return R.Item() * s / float64(len(q))
		}},
		primCase{name: "logSoftmaxOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return LogSoftmax(t, Mul(t, in[0], in[0]))
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			// LogSoftmax keeps its curvature: ÿ_ij = −Var_{p_i}(ż_i) for
			// every j, so Σ R ⊙ ÿ = −Σ_i Var_{p_i}(ż_i)·Σ_j R_ij, of
			// either sign.
			q := rowVariances(vals[0], dirs[0])
			c := R.Cols()
			var s float64
			for i, v := range q {
				for _, r := range R.Data()[i*c : (i+1)*c] {
					s -= v * r
				}
			}
			return s
		}},
		primCase{name: "nllOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return NLL(t, Mul(t, in[0], in[0]), labels)
		}, gn: func(vals, dirs []*tensor.Tensor[float64], R *tensor.Tensor[float64]) float64 {
			return 0 // NLL is linear: it has no curvature of its own to keep
		}},
	)
}

// actShift is c in the activation cases' pre-activation z = x² + c·x.
const actShift = 3

// bothSigns fills the inputs of the activation cases so that z = x² + 3x
// takes both signs, at least 0.64 away from 0, with ż = (2x + 3)·u of
// slope ≥ 0.6: even elements x ∈ [−1.2, −0.3] give z ∈ [−2.25, −0.81]
// (z = (x + 1.5)² − 2.25) and 2x + 3 ∈ [0.6, 2.4]; odd elements
// x ∈ [0.2, 1] give z ∈ [0.64, 4]. The finite-difference steps move z by
// less than 0.01, far from σ's kink at 0.
func bothSigns(r *rand.Rand, in []*tensor.Tensor[float64]) {
	for _, x := range in {
		for i := range x.Data() {
			if i%2 == 0 {
				x.Data()[i] = -0.3 - 0.9*r.Float64()
			} else {
				x.Data()[i] = 0.2 + 0.8*r.Float64()
			}
		}
	}
}

// preActivationBothSigns checks what bothSigns promises, on the recorded
// input of σ: both signs present, every |z| ≥ 0.2.
func preActivationBothSigns(t *testing.T, y *Var[float64]) {
	t.Helper()
	z := y.In(0).Value.Data()
	var neg, pos int
	for i, v := range z {
		switch {
		case v <= -0.2:
			neg++
		case v >= 0.2:
			pos++
		default:
			t.Fatalf("pre-activation %d is %v, within 0.2 of the kink", i, v)
		}
	}
	if neg == 0 || pos == 0 {
		t.Fatalf("pre-activations %v: %d negative and %d positive, want both signs", z, neg, pos)
	}
}

// squareTangent returns ż = 2x⊙u, the first tangent of z = x⊙x.
func squareTangent(x, u *tensor.Tensor[float64]) []float64 {
	zd := make([]float64, x.Len())
	for i, v := range x.Data() {
		zd[i] = 2 * v * u.Data()[i]
	}
	return zd
}

func sqNorm(v []float64) float64 {
	var s float64
	for _, e := range v {
		s += e * e
	}
	return s
}

// rowVariances returns, for z = x⊙x (M×C) and ż = 2x⊙u, the variance of
// each row of ż under p_i = softmax(z_i): Σ_j p_ij ż_ij² − (Σ_j p_ij ż_ij)²,
// the curvature of log-sum-exp along ż, with softmax written out here.
func rowVariances(x, u *tensor.Tensor[float64]) []float64 {
	m, c := x.Rows(), x.Cols()
	zd := squareTangent(x, u)
	q := make([]float64, m)
	for i := range m {
		row := x.Data()[i*c : (i+1)*c]
		var den float64
		for _, v := range row {
			den += math.Exp(v * v)
		}
		var mean, sq float64
		for j, v := range row {
			p := math.Exp(v*v) / den
			mean += p * zd[i*c+j]
			sq += p * zd[i*c+j] * zd[i*c+j]
		}
		q[i] = sq - mean*mean
	}
	return q
}

// primitiveTypeName returns the Go type name of y's primitive, e.g. "linearOp".
func primitiveTypeName(y *Var[float64]) string {
	s := fmt.Sprintf("%T", y.Op())
	s = strings.TrimPrefix(s, "*ad.")
	if i := strings.IndexByte(s, '['); i >= 0 {
		s = s[:i]
	}
	return s
}

// checkPrimitive runs the checks on one case: the VJP against central
// differences, the jet's first term against ∇f·u, the jet's second term
// against a second difference of α ↦ f(θ + α·u), and the Gauss–Newton
// second term against its closed form (0 without a loss primitive). The
// scalar is f = Σ R ⊙ y with random weights R, so every component of the
// primitive's output is checked. So that no check passes as 0 = 0, the
// primitive's output must carry a first tangent, some parameter gradient
// must be nonzero, and, unless the case is linear in the parameters, the
// output must carry a second tangent.
func checkPrimitive(t *testing.T, c primCase, r *rand.Rand) {
	t.Helper()
	vals := make([]*tensor.Tensor[float64], len(c.shapes))
	for i, s := range c.shapes {
		vals[i] = tensor.New[float64](s...)
		for j := range vals[i].Data() {
			vals[i].Data()[j] = r.NormFloat64()
		}
	}
	if c.fill != nil {
		c.fill(r, vals)
	}
	var params []*Var[float64]
	isData := func(i int) bool { return c.data != nil && c.data[i] }
	for i, v := range vals {
		if !isData(i) {
			params = append(params, NewParam(fmt.Sprint("in", i), v))
		}
	}
	tape := &Tape[float64]{}
	var weights *tensor.Tensor[float64]
	var last *Var[float64]
	eval := func() *Var[float64] {
		tape.Reset()
		in := make([]*Var[float64], len(vals))
		k := 0
		for i, v := range vals {
			if isData(i) {
				in[i] = tape.Const(v)
			} else {
				in[i] = params[k]
				k++
			}
		}
		y := c.build(tape, in)
		last = y
		if weights == nil {
			weights = tensor.New[float64](y.Shape()...)
			for j := range weights.Data() {
				weights.Data()[j] = r.NormFloat64()
			}
		}
		return Sum(tape, Mul(tape, y, tape.Const(weights)))
	}
	f := eval()
	if got := primitiveTypeName(last); !strings.HasPrefix(c.name, got) {
		t.Fatalf("case %s records primitive %s", c.name, got)
	}
	if c.pre != nil {
		c.pre(t, last)
	}
	ZeroGrad(params)
	tape.Backward(f)
	nonzero := false
	for _, p := range params {
		nonzero = nonzero || slices.ContainsFunc(p.Grad.Data(), func(g float64) bool { return g != 0 })
	}
	if !nonzero {
		t.Errorf("every parameter gradient is zero: the VJP check is vacuous")
	}
	for _, p := range params {
		want := numcheck.Gradient(func() float64 { return eval().Value.Item() }, p.Value.Data(), fdStep)
		if e := numcheck.RelErr(p.Grad.Data(), want, 1e-8); e > tolVJP {
			t.Errorf("VJP of %s: gradient %v, finite differences %v (rel. err %.2g > %g)", p.Name, p.Grad.Data(), want, e, tolVJP)
		}
	}
	dirs := make([]*tensor.Tensor[float64], len(params))
	var gu float64
	for i, p := range params {
		dirs[i] = tensor.New[float64](p.Value.Shape()...)
		for j := range dirs[i].Data() {
			dirs[i].Data()[j] = r.NormFloat64()
		}
		gu += tensor.Dot(p.Grad, dirs[i])
	}
	f = eval()
	f0, d1, d2 := tape.Jet(f, params, dirs, Hessian)
	if f0 != f.Value.Item() {
		t.Errorf("Jet value %v, forward %v", f0, f.Value.Item())
	}
	if e := numcheck.Rel(d1, gu, 1e-8); e > tolJet1 {
		t.Errorf("Jet first term %v, ∇f·u %v (rel. err %.2g > %g)", d1, gu, e, tolJet1)
	}
	if last.D1() == nil {
		t.Errorf("the primitive's output has no first tangent: the jet checks are vacuous")
	}
	if !c.linear && last.D2() == nil {
		t.Errorf("the primitive's output has no second tangent, and the case is not marked linear")
	}
	line := func(a float64) float64 {
		saved := make([][]float64, len(params))
		for i, p := range params {
			saved[i] = slices.Clone(p.Value.Data())
			tensor.Axpy(p.Value, a, dirs[i])
		}
		v := eval().Value.Item()
		for i, p := range params {
			copy(p.Value.Data(), saved[i])
		}
		return v
	}
	want2 := numcheck.SecondDerivative(line, jetStep)
	// The floor keeps a zero curvature from being judged against the
	// rounding noise of the difference quotient: each g(±h) carries a few
	// ulps of |f| (more with FMA GEMM kernels that round differently), and
	// Richardson's 4/3·D(h/2) divides them by (h/2)²/16, about 5e-9·|f|
	// per ulp. The floor 1e-2·(1+|f|) allows 1e-7·(1+|f|) absolute.
	if e := numcheck.Rel(d2, want2, 1e-2*(1+abs(f0))); e > tolJet2 {
		t.Errorf("Jet second term %v, finite differences %v (rel. err %.2g > %g)", d2, want2, e, tolJet2)
	}

	// Gauss–Newton: the model primitives' own curvature is dropped, the
	// loss primitives' kept. Σ R ⊙ y adds none (R is data).
	f = eval()
	hasLoss := false
	for _, v := range tape.nodes[:tape.Len()] {
		_, isLoss := v.Op().(lossCurvature)
		hasLoss = hasLoss || isLoss
	}
	_, gd1, gd2 := tape.Jet(f, params, dirs, GaussNewton)
	if gd1 != d1 {
		t.Errorf("Gauss–Newton first term %v, Hessian mode's %v: they must agree", gd1, d1)
	}
	switch {
	case c.gn != nil:
		// The closed form, not the loss marker the engine reads, says
		// what is kept: a loss primitive that lost its marker fails here.
		want := c.gn(vals, dirs, weights)
		if want == 0 && gd2 != 0 || want != 0 && numcheck.Rel(gd2, want, 1e-300) > tolGN {
			t.Errorf("Gauss–Newton second term %v, closed form %v (Hessian %v)", gd2, want, d2)
		}
	case hasLoss:
		t.Errorf("the case holds a loss primitive but gives no closed form of its Gauss–Newton term")
	case gd2 != 0:
		t.Errorf("Gauss–Newton second term %v without a loss primitive, want exactly 0", gd2)
	}
}

func TestPrimitives(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, c := range primCases {
		t.Run(c.name, func(t *testing.T) {
			for range 3 {
				checkPrimitive(t, c, r)
			}
		})
	}
}

// TestEveryPrimitiveIsChecked finds every type in this package with a VJP
// method and fails unless TestPrimitives has a case for it, so that a new
// primitive cannot skip the checks.
func TestEveryPrimitiveIsChecked(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	recv := regexp.MustCompile(`^\*?(\w+)`)
	var found []string
	for _, pkg := range pkgs {
		for _, file := range pkg.Files {
			for _, d := range file.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv == nil || fn.Name.Name != "VJP" {
					continue
				}
				typ := fn.Recv.List[0].Type
				if st, ok := typ.(*ast.StarExpr); ok {
					typ = st.X
				}
				if ix, ok := typ.(*ast.IndexExpr); ok {
					typ = ix.X
				}
				name := recv.FindString(fmt.Sprint(typ))
				found = append(found, name)
			}
		}
	}
	if len(found) < 10 {
		t.Fatalf("found only %d primitives (%v): the scan is broken", len(found), found)
	}
	for _, name := range found {
		covered := false
		for _, c := range primCases {
			covered = covered || c.name == name || strings.HasPrefix(c.name, name+"/")
		}
		if !covered {
			t.Errorf("primitive %s has no case in TestPrimitives", name)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
