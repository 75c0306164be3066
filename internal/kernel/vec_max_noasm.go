//go:build !amd64 || purego

package kernel

// maxHasAVX512 is false: no assembly maximum here.
var maxHasAVX512 = false

// maxAsm32 has no assembly here: Max32 runs maxGo.
func maxAsm32(x []float32) (float32, bool) { return 0, false }
