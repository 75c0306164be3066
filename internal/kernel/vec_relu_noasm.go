//go:build !amd64 || purego

package kernel

// reluHasAVX512 is false without the assembly kernels (the purego tag, or
// not amd64): ReLURows32, ReLUGradRows32 and Pool2x2ReLU32 run their Go
// loops.
var reluHasAVX512 = false

func reluRowsAVX512(rows, cols int, dst *float32, ldd int, src *float32, lds int, b float32) {
	panic("kernel: no assembly ReLU kernels in this build")
}

func reluGradRowsAVX512(rows, cols int, dst *float32, ldd int, grad *float32, ldg int, y *float32, ldy int, acc bool) float64 {
	panic("kernel: no assembly ReLU kernels in this build")
}

func pool2x2ReLUAVX512(pw int, src *float32, oc, rs int, bias *float32, c0 int32, dst *float32, arg *int32) {
	panic("kernel: no assembly ReLU kernels in this build")
}

func rowDotsAVX512(k int, a0, a1 *float32, rows *[8]*float32, out *[16]float32) {
	panic("kernel: no assembly row-dot kernel in this build")
}

func transpose16AVX512(src *float32, lds int, dst *float32, ldd int) {
	panic("kernel: no assembly transpose in this build")
}

// Prefetch does nothing in this build (see the amd64 version).
func Prefetch(x []float32) {}

func addRowsAVX512(rows, cols int, dst *float32, ldd int, a *float32, lda int, v *float32) {
	panic("kernel: no assembly row addition in this build")
}

func unpool2x2AVX512(pw int, gy, yv *float32, arg *int32, oc, rs int, c0 int32, dst *float32, sums *[16]float64) {
	panic("kernel: no assembly unpooling in this build")
}
