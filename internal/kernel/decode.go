package kernel

import (
	"fmt"
	"math"
)

// Decoder8 turns byte codes into float32 values through a table of 256
// (MNIST's pixels, whose values p/255, standardised or not, the loader
// tabulates once). It holds the table and, for the vector kernel, the
// table's four byte planes; build it once per table with NewDecoder8 (or
// Reset) and decode many rows with Decode.
type Decoder8 struct {
	table  [256]float32
	planes [4][256]uint8 // planes[j][c] = byte j (little-endian) of table[c]
}

// NewDecoder8 returns a decoder for table.
func NewDecoder8(table *[256]float32) *Decoder8 {
	d := new(Decoder8)
	d.Reset(table)
	return d
}

// Reset makes d decode through table, without allocating.
func (d *Decoder8) Reset(table *[256]float32) {
	d.table = *table
	for c, v := range table {
		b := math.Float32bits(v)
		for j := range d.planes {
			d.planes[j][c] = uint8(b >> (8 * j))
		}
	}
}

// Holds reports whether d decodes through the values of table (bit for
// bit), so that a caller resets it only when the table changed.
func (d *Decoder8) Holds(table *[256]float32) bool {
	for c, v := range table {
		if math.Float32bits(v) != math.Float32bits(d.table[c]) {
			return false
		}
	}
	return true
}

// Decode writes dst[i] = table[src[i]] for every i; dst and src have one
// length. The values are the table's bits.
//
// On amd64 with AVX-512 VBMI the loop runs in assembly (decode8VBMI): 64
// codes at a time, each byte of the results looked up from its plane of
// the table by two VPERMI2B, then interleaved into float32 lanes. The
// pure-Go twin is decode8Go.
func (d *Decoder8) Decode(dst []float32, src []uint8) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernel: Decoder8.Decode: %d values for %d codes", len(dst), len(src)))
	}
	done := decode8(dst, src, d)
	decode8Go(dst[done:], src[done:], &d.table)
}

// decode8Go is the reference loop of Decoder8.Decode, the pure-Go twin of
// decode8VBMI.
func decode8Go(dst []float32, src []uint8, table *[256]float32) {
	dst = dst[:len(src)]
	for i, c := range src {
		dst[i] = table[c]
	}
}

// decode8Perm orders 64 codes so that decode8VBMI's in-lane unpacking
// leaves the values in order: position 16L + 4q + s (128-bit lane L,
// quarter q, byte s) takes code 16q + 4L + s.
var decode8Perm = func() (p [64]uint8) {
	for l := range 4 {
		for q := range 4 {
			for s := range 4 {
				p[16*l+4*q+s] = uint8(16*q + 4*l + s)
			}
		}
	}
	return p
}()
