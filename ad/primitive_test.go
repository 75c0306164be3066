package ad

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
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
}

var primCases []primCase

func addCases(cs ...primCase) { primCases = append(primCases, cs...) }

func init() {
	acts := []Act{{Kind: Identity}, {Kind: ReLU}, {Kind: LeakyReLU, Slope: 0.1}, {Kind: Tanh}, {Kind: Sigmoid}, {Kind: GELU}, {Kind: SiLU}, {Kind: Softplus}}
	for _, a := range acts {
		addCases(primCase{
			name: "actOp/" + a.String(), shapes: [][]int{{3, 4}},
			fill: awayFromZero,
			build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
				return Activate(t, Mul(t, in[0], in[0]), a) // square first: nonzero second tangent in
			},
		})
	}
	labels := []int{2, 0, 1}
	addCases(
		primCase{name: "linearOp/bias", shapes: [][]int{{3, 4}, {5, 4}, {5}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return Linear(t, Activate(t, in[0], Act{Kind: Tanh}), in[1], in[2])
		}},
		primCase{name: "linearOp/nobias-data-input", shapes: [][]int{{3, 4}, {5, 4}}, data: []bool{true, false}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
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
		primCase{name: "sqErrOp/mse", shapes: [][]int{{3, 2}, {3, 2}}, data: []bool{false, true}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return MeanSquaredError(t, Mul(t, in[0], in[0]), in[1].Value)
		}},
		primCase{name: "sqErrOp/half-sq", shapes: [][]int{{3, 2}, {3, 2}}, data: []bool{false, true}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return HalfSquaredError(t, Mul(t, in[0], in[0]), in[1].Value)
		}},
		primCase{name: "softmaxCEOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return SoftmaxCrossEntropy(t, Mul(t, in[0], in[0]), labels)
		}},
		primCase{name: "logSoftmaxOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return LogSoftmax(t, Mul(t, in[0], in[0]))
		}},
		primCase{name: "nllOp", shapes: [][]int{{3, 4}}, build: func(t *Tape[float64], in []*Var[float64]) *Var[float64] {
			return NLL(t, Mul(t, in[0], in[0]), labels)
		}},
	)
}

// awayFromZero keeps inputs at least 0.2 from 0, so that finite differences
// do not straddle a kink.
func awayFromZero(r *rand.Rand, in []*tensor.Tensor[float64]) {
	for _, x := range in {
		for i := range x.Data() {
			v := 0.2 + r.Float64()
			if r.IntN(2) == 0 {
				v = -v
			}
			x.Data()[i] = v
		}
	}
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

// checkPrimitive runs the three checks of the issue on one case: the VJP
// against central differences, the jet's first term against ∇f·u, and the
// jet's second term against a second difference of α ↦ f(θ + α·u). The
// scalar is f = Σ R ⊙ y with random weights R, so every component of the
// primitive's output is checked.
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
	ZeroGrad(params)
	tape.Backward(f)
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
