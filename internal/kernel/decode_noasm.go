//go:build !amd64 || purego

package kernel

// hasDecode8 says whether an assembly decoder runs here: never in this build.
var hasDecode8 = false

// decode8 leaves every code to the pure-Go twin in this build.
func decode8(dst []float32, src []uint8, d *Decoder8) int { return 0 }

// PrefetchBytes does nothing in this build (see the amd64 version).
func PrefetchBytes(b []uint8) {}
