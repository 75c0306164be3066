package kernel

import (
	"fmt"
	"math"
)

// Shapes in this file: x, y, dy, dz are m×n row-major with n = len(bias)
// (one row per example); bias and dbias have n elements.

// ActKind names the activations whose derivative can be computed from the
// activation's output y = σ(z) alone, which is what lets the backward pass
// below skip storing the pre-activation z.
type ActKind int

const (
	// ActIdentity: σ(z) = z, σ' = 1.
	ActIdentity ActKind = iota
	// ActReLU: σ(z) = max(z, 0), σ'(z) = [z > 0] = [y > 0] (Nair & Hinton, ICML 2010).
	ActReLU
	// ActLeakyReLU: σ(z) = z for z > 0, slope·z otherwise; σ' = 1 where
	// y > 0, slope elsewhere (slope > 0; Maas et al., ICML 2013 workshop).
	ActLeakyReLU
	// ActTanh: σ(z) = tanh z, σ' = 1 − y².
	ActTanh
	// ActSigmoid: σ(z) = 1/(1 + e^{−z}), σ' = y(1 − y).
	ActSigmoid
)

func checkAct(op string, act ActKind) {
	if act < ActIdentity || act > ActSigmoid {
		panic(fmt.Sprintf("kernel: %s: unknown activation %d", op, act))
	}
}

func checkRows(op string, total, n int) {
	if n == 0 && total == 0 {
		return
	}
	if n == 0 || total%n != 0 {
		panic(fmt.Sprintf("kernel: %s: %d elements are not whole rows of the bias length %d", op, total, n))
	}
}

// BiasActivate computes, in one pass over memory,
//
//	y[i,j] = σ(x[i,j] + bias[j])
//
// for an m×n matrix x (m = len(x)/len(bias)), the forward pass of a dense
// layer after its GEMM. slope is used by ActLeakyReLU only. y may be x
// (in-place); otherwise they must not overlap.
func BiasActivate[T Float](act ActKind, slope T, y, x, bias []T) {
	checkAct("BiasActivate", act)
	checkLen("BiasActivate", len(y), len(x))
	n := len(bias)
	checkRows("BiasActivate", len(x), n)
	for r := 0; r < len(x); r += n {
		xr, yr := x[r:r+n], y[r:r+n]
		xr, yr = xr[:len(bias)], yr[:len(bias)] // lets the compiler drop bounds checks
		switch act {
		case ActIdentity:
			for j, b := range bias {
				yr[j] = xr[j] + b
			}
		case ActReLU:
			for j, b := range bias {
				z := xr[j] + b
				if z < 0 { // not max(z, 0): Go's max pays for ±0 ordering
					z = 0
				}
				yr[j] = z
			}
		case ActLeakyReLU:
			for j, b := range bias {
				z := xr[j] + b
				if z <= 0 {
					z *= slope
				}
				yr[j] = z
			}
		case ActTanh:
			for j, b := range bias {
				yr[j] = T(math.Tanh(float64(xr[j] + b)))
			}
		case ActSigmoid:
			for j, b := range bias {
				yr[j] = T(1 / (1 + math.Exp(-float64(xr[j]+b))))
			}
		}
	}
}

// ActivateBackward computes the gradient through σ from the activation's
// output y, in one pass:
//
//	dz[i,j] = dy[i,j]·σ'(z[i,j])          (σ' written through y, see ActKind)
//	dbias[j] += Σ_i dz[i,j]               (skipped when dbias is nil)
//
// where n = len(dbias), or len(dy) when dbias is nil (one row). dz may be
// dy; y must be the output BiasActivate wrote for the same act and slope.
// The bias sum accumulates in T, row by row, in a fixed order.
func ActivateBackward[T Float](act ActKind, slope T, dz, dy, y, dbias []T) {
	checkAct("ActivateBackward", act)
	checkLen("ActivateBackward", len(dz), len(dy))
	checkLen("ActivateBackward", len(y), len(dy))
	n := len(dbias)
	if dbias == nil {
		n = len(dy)
	}
	checkRows("ActivateBackward", len(dy), n)
	for r := 0; r < len(dy); r += n {
		yr := y[r : r+n]
		dyr, dzr := dy[r : r+n][:len(yr)], dz[r : r+n][:len(yr)]
		switch act {
		case ActIdentity:
			copy(dzr, dyr)
		case ActReLU:
			for j, v := range yr {
				d := dyr[j]
				if !(v > 0) {
					d = 0
				}
				dzr[j] = d
			}
		case ActLeakyReLU:
			for j, v := range yr {
				if v > 0 {
					dzr[j] = dyr[j]
				} else {
					dzr[j] = slope * dyr[j]
				}
			}
		case ActTanh:
			for j, v := range yr {
				dzr[j] = dyr[j] * (1 - v*v)
			}
		case ActSigmoid:
			for j, v := range yr {
				dzr[j] = dyr[j] * (v * (1 - v))
			}
		}
		if dbias != nil {
			db := dbias[:len(dzr)]
			for j, v := range dzr {
				db[j] += v
			}
		}
	}
}

// SoftmaxCrossEntropy returns the mean cross-entropy of the softmax of each
// row of logits (m×c, c = classes) against integer labels (m of them),
//
//	L = (1/m) Σ_i [ log Σ_j exp(z[i,j]) − z[i,label_i] ],
//
// computed stably (the row maximum is subtracted first) and accumulated in
// float64. When grad is not nil it receives ∂L/∂z in the same pass:
//
//	grad[i,j] = (softmax(z_i)_j − [j = label_i]) / m
//
// grad may be logits. A label outside [0, classes) panics.
func SoftmaxCrossEntropy[T Float](grad, logits []T, labels []int, classes int) float64 {
	if classes <= 0 {
		panic(fmt.Sprintf("kernel: SoftmaxCrossEntropy: classes = %d, want > 0", classes))
	}
	m := len(labels)
	if len(logits) != m*classes {
		panic(fmt.Sprintf("kernel: SoftmaxCrossEntropy: %d logits for %d labels × %d classes", len(logits), m, classes))
	}
	if grad != nil {
		checkLen("SoftmaxCrossEntropy", len(grad), len(logits))
	}
	if m == 0 {
		return 0
	}
	inv := 1 / float64(m)
	var loss float64
	for i, lab := range labels {
		if lab < 0 || lab >= classes {
			panic(fmt.Sprintf("kernel: SoftmaxCrossEntropy: label %d of row %d is outside [0, %d)", lab, i, classes))
		}
		z := logits[i*classes : i*classes+classes]
		mx := float64(z[0])
		for _, v := range z[1:] {
			mx = max(mx, float64(v))
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v) - mx)
		}
		zl := float64(z[lab])
		loss += math.Log(s) + mx - zl
		if grad != nil {
			g := grad[i*classes : i*classes+classes]
			for j, v := range z {
				g[j] = T(math.Exp(float64(v)-mx) / s * inv)
			}
			g[lab] -= T(inv)
		}
	}
	return loss * inv
}

// Norm2 returns the Euclidean norm √(Σ x[i]²), accumulated in float64.
func Norm2[T Float](x []T) float64 {
	return math.Sqrt(Dot(x, x))
}
