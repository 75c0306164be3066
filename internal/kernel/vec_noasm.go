//go:build !amd64 || purego

package kernel

// Without the assembly kernels (the purego tag, or not amd64) the float32
// vector routines do no work here and leave every element to the pure-Go
// twins; each returns how many leading elements it handled: none.

func axpy32(alpha float32, x, y []float32) int { return 0 }

func dot32(x, y []float32) (float64, int) { return 0, 0 }

func adam32(u, m, v, g, theta []float32, k *adamCoeffs[float32]) int { return 0 }

// vecImpls lists the assembly vector kernels this CPU can run: none here.
func vecImpls() []*vecImpl { return nil }

// vecImpl would be one set of assembly kernels; there are none here, and
// its methods leave every element to the twins.
type vecImpl struct{ name string }

func (im *vecImpl) axpy32(alpha float32, x, y []float32) int { return 0 }

func (im *vecImpl) dot32(x, y []float32) (float64, int) { return 0, 0 }

func (im *vecImpl) adam32(u, m, v, g, theta []float32, k *adamCoeffs[float32]) int { return 0 }
