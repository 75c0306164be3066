package kernel

import "unsafe"

// Transpose32 writes the transpose of the rows×cols matrix src into dst
// (cols×rows):
//
//	dst[j·ldd + i] = src[i·lds + j],   i < rows, j < cols
//
// for any 32-bit element type E (float32, int32, uint32). With AVX-512
// whole 16×16 blocks are transposed in registers (three rounds of
// shuffles), the edges element by element. dst and src must not overlap.
// It panics if a matrix does not fit its slice.
func Transpose32[E ~float32 | ~int32 | ~uint32](rows, cols int, dst []E, ldd int, src []E, lds int) {
	if rows == 0 || cols == 0 {
		return
	}
	checkRowsFit("Transpose32", "src", rows, cols, lds, len(src))
	checkRowsFit("Transpose32", "dst", cols, rows, ldd, len(dst))
	r16, c16 := 0, 0
	if reluHasAVX512 {
		r16, c16 = rows&^15, cols&^15
		for i := 0; i < r16; i += 16 {
			for j := 0; j < c16; j += 16 {
				transpose16AVX512((*float32)(unsafe.Pointer(&src[i*lds+j])), lds, (*float32)(unsafe.Pointer(&dst[j*ldd+i])), ldd)
			}
		}
	}
	// The edges: columns past c16 of the blocked rows, then the rows past r16.
	for i := range r16 {
		for j := c16; j < cols; j++ {
			dst[j*ldd+i] = src[i*lds+j]
		}
	}
	for i := r16; i < rows; i++ {
		s := src[i*lds:][:cols]
		for j, v := range s {
			dst[j*ldd+i] = v
		}
	}
}
