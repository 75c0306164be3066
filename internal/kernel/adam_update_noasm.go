//go:build !amd64 || purego

package kernel

// adamUpdate32 handles no elements without the assembly kernels: AdamUpdate
// goes block by block through the pure-Go twins.
func adamUpdate32(m, v, g, theta []float32, k *adamCoeffs[float32], alpha float32) int { return 0 }

func (im *vecImpl) adamUpdate32(m, v, g, theta []float32, k *adamCoeffs[float32], alpha float32) int {
	return 0
}
