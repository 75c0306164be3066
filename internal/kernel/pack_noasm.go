//go:build !amd64 || purego

package kernel

// packTrans8 has no assembly here: packB's loop does the whole transpose.
func packTrans8(dst []float32, nr, kc int, b []float32, r, ldb int) (done int) { return 0 }
