package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sigma is the float64 definition of each activation, the oracle here.
func sigma(act ActKind, slope, z float64) float64 {
	switch act {
	case ActReLU:
		return math.Max(z, 0)
	case ActLeakyReLU:
		if z > 0 {
			return z
		}
		return slope * z
	case ActTanh:
		return math.Tanh(z)
	case ActSigmoid:
		return 1 / (1 + math.Exp(-z))
	}
	return z
}

var acts = []ActKind{ActIdentity, ActReLU, ActLeakyReLU, ActTanh, ActSigmoid}

// TestBiasActivateBackward checks the forward pass against the definition
// and the backward pass against a central finite difference of σ in
// float64 (step h = 1e-6, truncation O(h²) ≈ 1e-12, rounding ≈ 1e-10; the
// pre-activations are kept ≥ 0.01 away from the ReLU kink so the difference
// never straddles it). tolEW is float64 rounding of a few operations plus
// that error.
func TestBiasActivateBackward(t *testing.T) {
	const tolEW, h, slope = 1e-8, 1e-6, 0.1
	r := rand.New(rand.NewPCG(11, 12))
	m, n := 7, 13
	for _, act := range acts {
		x, bias, dy := make([]float64, m*n), make([]float64, n), make([]float64, m*n)
		for j := range bias {
			bias[j] = r.Float64() - 0.5
		}
		for i := range x {
			z := (0.01 + 2*r.Float64()) * float64(1-2*r.IntN(2))
			x[i] = z - bias[i%n]
			dy[i] = r.Float64()*2 - 1
		}
		y := make([]float64, m*n)
		BiasActivate(act, slope, y, x, bias)
		dz, db := make([]float64, m*n), make([]float64, n)
		db[0] = 1 // accumulates onto what is there
		ActivateBackward(act, slope, dz, dy, y, db)
		wantDB := make([]float64, n)
		wantDB[0] = 1
		for i := range x {
			z := x[i] + bias[i%n]
			if want := sigma(act, slope, z); math.Abs(y[i]-want) > tolEW {
				t.Fatalf("act %d: y[%d] = %v, want %v", act, i, y[i], want)
			}
			fd := (sigma(act, slope, z+h) - sigma(act, slope, z-h)) / (2 * h)
			if want := dy[i] * fd; math.Abs(dz[i]-want) > tolEW*(1+math.Abs(want))*100 {
				t.Fatalf("act %d: dz[%d] = %v, finite difference gives %v", act, i, dz[i], want)
			}
			wantDB[i%n] += dz[i]
		}
		for j := range db {
			if math.Abs(db[j]-wantDB[j]) > tolEW {
				t.Fatalf("act %d: dbias[%d] = %v, want %v", act, j, db[j], wantDB[j])
			}
		}
		// In place: y = σ(y + b) over x itself gives the same bits.
		BiasActivate(act, slope, x, x, bias)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("act %d: in-place y[%d] = %v, out-of-place %v", act, i, x[i], y[i])
			}
		}
	}
}

// TestSoftmaxCrossEntropy checks a closed form (equal logits give log c and
// gradient (1/c − [j = label])/m) and the gradient against central finite
// differences of the returned loss in float64 (h = 1e-5; tolerance 1e-8 is
// the O(h²) truncation of these smooth functions with room to spare).
func TestSoftmaxCrossEntropy(t *testing.T) {
	const h, tolFD = 1e-5, 1e-8
	// Closed form.
	logits := []float32{3, 3, 3, 3, -1, -1, -1, -1}
	grad := make([]float32, 8)
	loss := SoftmaxCrossEntropy(grad, logits, []int{2, 0}, 4)
	if math.Abs(loss-math.Log(4)) > 1e-6 {
		t.Fatalf("equal logits: loss %v, want log 4 = %v", loss, math.Log(4))
	}
	if want := float32((0.25 - 1) / 2); math.Abs(float64(grad[2]-want)) > 1e-7 || math.Abs(float64(grad[1]-0.125)) > 1e-7 {
		t.Fatalf("equal logits: grad %v, want 0.125 off-label and %v at the label", grad, want)
	}
	// Finite differences, including huge logits that overflow a naive exp.
	r := rand.New(rand.NewPCG(13, 14))
	m, c := 5, 7
	z := make([]float64, m*c)
	for i := range z {
		z[i] = 4*r.Float64() - 2
	}
	z[3] = 800
	labels := []int{0, 3, 6, 2, 2}
	g := make([]float64, m*c)
	SoftmaxCrossEntropy(g, z, labels, c)
	for i := range z {
		zp := append([]float64(nil), z...)
		zp[i] += h
		zm := append([]float64(nil), z...)
		zm[i] -= h
		fd := (SoftmaxCrossEntropy(nil, zp, labels, c) - SoftmaxCrossEntropy(nil, zm, labels, c)) / (2 * h)
		if math.Abs(g[i]-fd) > tolFD {
			t.Fatalf("grad[%d] = %v, finite difference %v", i, g[i], fd)
		}
	}
}

// TestAdamDirection follows three steps of Adam written out by hand in
// float64 from Algorithm 1 of Kingma & Ba, the third with a gradient scale,
// coupled and decoupled decay and a multiplier.
func TestAdamDirection(t *testing.T) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	// tol: float64 rounding of a handful of operations on values of order 1.
	const tol = 1e-12
	g1 := []float64{0.5, -2, 0}
	g2 := []float64{1, 1, -3}
	th := []float64{0.25, -1, 4}
	m, v, u := make([]float64, 3), make([]float64, 3), make([]float64, 3)
	plain := AdamStep{Beta1: b1, Beta2: b2, Eps: eps, T: 1, GradScale: 1, Mult: 1}
	AdamDirection(u, m, v, g1, th, plain)
	// Step 1: m̂ = g, v̂ = g², so u = g/(|g| + ε).
	for i, g := range g1 {
		if want := g / (math.Abs(g) + eps); math.Abs(u[i]-want) > tol {
			t.Fatalf("step 1: u[%d] = %v, want %v", i, u[i], want)
		}
	}
	plain.T = 2
	AdamDirection(u, m, v, g2, th, plain)
	m2, v2 := make([]float64, 3), make([]float64, 3)
	for i := range g2 {
		m2[i] = b1*(1-b1)*g1[i] + (1-b1)*g2[i]
		v2[i] = b2*(1-b2)*g1[i]*g1[i] + (1-b2)*g2[i]*g2[i]
		want := (m2[i] / (1 - b1*b1)) / (math.Sqrt(v2[i]/(1-b2*b2)) + eps)
		if math.Abs(m[i]-m2[i]) > tol || math.Abs(v[i]-v2[i]) > tol || math.Abs(u[i]-want) > tol {
			t.Fatalf("step 2, i=%d: m %v v %v u %v, want %v %v %v", i, m[i], v[i], u[i], m2[i], v2[i], want)
		}
	}
	const c, lc, ld, mult = 0.5, 0.1, 0.01, 2
	AdamDirection(u, m, v, g1, th, AdamStep{Beta1: b1, Beta2: b2, Eps: eps, T: 3, GradScale: c, Coupled: lc, Decoupled: ld, Mult: mult})
	for i := range g1 {
		gh := c*g1[i] + lc*th[i]
		mm := b1*m2[i] + (1-b1)*gh
		vv := b2*v2[i] + (1-b2)*gh*gh
		want := mult * ((mm/(1-b1*b1*b1))/(math.Sqrt(vv/(1-b2*b2*b2))+eps) + ld*th[i])
		if math.Abs(m[i]-mm) > tol || math.Abs(v[i]-vv) > tol || math.Abs(u[i]-want) > tol {
			t.Fatalf("step 3, i=%d: m %v v %v u %v, want %v %v %v", i, m[i], v[i], u[i], mm, vv, want)
		}
	}
}

func TestNorm2(t *testing.T) {
	if got := Norm2([]float32{3, 4}); got != 5 {
		t.Fatalf("Norm2(3, 4) = %v, want 5", got)
	}
}
