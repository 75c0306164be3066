//go:build !amd64 || purego

package kernel

// packHasAVX2 is false: no assembly packs here.
var packHasAVX2 = false

// packTrans8 has no assembly here: packB's loop does the whole transpose.
func packTrans8(dst []float32, nr, kc int, b []float32, r, ldb int) (done int) { return 0 }

// packRows32 has no assembly here: packBRows's loop copies the rows.
func packRows32(pb []float32, nr, kc, full int, b []float32, r, ldb int) bool { return false }
