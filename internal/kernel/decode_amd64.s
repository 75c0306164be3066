//go:build amd64 && !purego

#include "textflag.h"

// func decode8VBMI(n int, dst *float32, src *uint8, planes *[4][256]uint8, perm *[64]uint8)
//
// dst[i] = table[src[i]] for i < n (n a positive multiple of 64), AVX-512
// F, BW and VBMI, with planes[j][c] byte j of table[c]. Reference loop
// (the pure-Go twin is decode8Go; every byte of a result is a byte of the
// table, so the values are the table's bits):
//
//	for i < n: dst[i] = table[src[i]]
//
// Per 64 codes: VPERMB orders them by perm (so that the in-lane unpacking
// below ends with the values in order), K1 = their top bits; for each
// plane j two VPERMI2B look the low seven bits up in the plane's halves
// (codes 0–127 and 128–255) and VPBLENDMB keeps the half the top bit
// names; the four planes are interleaved into words (VPUNPCK?BW) and words
// into dwords (VPUNPCK?WD), four registers of sixteen values.
// Registers: Z16–Z31 = the planes (plane j in Z16+4j … Z19+4j, 64 codes
// each); Z15 = perm; Z0 = the ordered codes; Z1, Z2 = lookups; Z3–Z6 = the
// planes' bytes; Z7–Z10 = words; Z11–Z14 = values. SI = src, DI = dst, AX
// = index i, CX = n.
TEXT ·decode8VBMI(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX                             // CX = n
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ src+16(FP), SI                          // SI = &src[0]
	MOVQ planes+24(FP), R10                      // R10 = &planes[0][0]
	MOVQ perm+32(FP), R11                        // R11 = &perm[0]
	VMOVDQU64 (R11), Z15                         // Z15 = perm
	VMOVDQU64 0(R10), Z16                        // plane 0, codes 0–63
	VMOVDQU64 64(R10), Z17                       // plane 0, codes 64–127
	VMOVDQU64 128(R10), Z18                      // plane 0, codes 128–191
	VMOVDQU64 192(R10), Z19                      // plane 0, codes 192–255
	VMOVDQU64 256(R10), Z20                      // plane 1, codes 0–63
	VMOVDQU64 320(R10), Z21                      // plane 1, codes 64–127
	VMOVDQU64 384(R10), Z22                      // plane 1, codes 128–191
	VMOVDQU64 448(R10), Z23                      // plane 1, codes 192–255
	VMOVDQU64 512(R10), Z24                      // plane 2, codes 0–63
	VMOVDQU64 576(R10), Z25                      // plane 2, codes 64–127
	VMOVDQU64 640(R10), Z26                      // plane 2, codes 128–191
	VMOVDQU64 704(R10), Z27                      // plane 2, codes 192–255
	VMOVDQU64 768(R10), Z28                      // plane 3, codes 0–63
	VMOVDQU64 832(R10), Z29                      // plane 3, codes 64–127
	VMOVDQU64 896(R10), Z30                      // plane 3, codes 128–191
	VMOVDQU64 960(R10), Z31                      // plane 3, codes 192–255
	XORQ AX, AX                                  // AX = 0
decode8_loop:
	VPERMB (SI)(AX*1), Z15, Z0                   // Z0 = src[i+perm[p]] at byte p
	VPMOVB2M Z0, K1                              // K1 = codes ≥ 128
	VMOVDQU64 Z0, Z1                             // Z1 = codes
	VPERMI2B Z17, Z16, Z1                        // Z1 = plane 0 of codes mod 128
	VMOVDQU64 Z0, Z2                             // Z2 = codes
	VPERMI2B Z19, Z18, Z2                        // Z2 = plane 0 of 128 + codes mod 128
	VPBLENDMB Z2, Z1, K1, Z3                     // Z3 = byte 0 of each value
	VMOVDQU64 Z0, Z1                             // Z1 = codes
	VPERMI2B Z21, Z20, Z1                        // Z1 = plane 1, low half
	VMOVDQU64 Z0, Z2                             // Z2 = codes
	VPERMI2B Z23, Z22, Z2                        // Z2 = plane 1, high half
	VPBLENDMB Z2, Z1, K1, Z4                     // Z4 = byte 1 of each value
	VMOVDQU64 Z0, Z1                             // Z1 = codes
	VPERMI2B Z25, Z24, Z1                        // Z1 = plane 2, low half
	VMOVDQU64 Z0, Z2                             // Z2 = codes
	VPERMI2B Z27, Z26, Z2                        // Z2 = plane 2, high half
	VPBLENDMB Z2, Z1, K1, Z5                     // Z5 = byte 2 of each value
	VMOVDQU64 Z0, Z1                             // Z1 = codes
	VPERMI2B Z29, Z28, Z1                        // Z1 = plane 3, low half
	VMOVDQU64 Z0, Z2                             // Z2 = codes
	VPERMI2B Z31, Z30, Z2                        // Z2 = plane 3, high half
	VPBLENDMB Z2, Z1, K1, Z6                     // Z6 = byte 3 of each value
	VPUNPCKLBW Z4, Z3, Z7                        // Z7 = words byte0|byte1<<8, bytes 0–7 of each lane
	VPUNPCKHBW Z4, Z3, Z8                        // Z8 = the same, bytes 8–15 of each lane
	VPUNPCKLBW Z6, Z5, Z9                        // Z9 = words byte2|byte3<<8, bytes 0–7
	VPUNPCKHBW Z6, Z5, Z10                       // Z10 = the same, bytes 8–15
	VPUNPCKLWD Z9, Z7, Z11                       // Z11 = values of bytes 0–3 of each lane = dst[i : i+16]
	VPUNPCKHWD Z9, Z7, Z12                       // Z12 = bytes 4–7 = dst[i+16 : i+32]
	VPUNPCKLWD Z10, Z8, Z13                      // Z13 = bytes 8–11 = dst[i+32 : i+48]
	VPUNPCKHWD Z10, Z8, Z14                      // Z14 = bytes 12–15 = dst[i+48 : i+64]
	VMOVDQU32 Z11, (DI)(AX*4)                    // store dst[i : i+16]
	VMOVDQU32 Z12, 64(DI)(AX*4)                  // store dst[i+16 : i+32]
	VMOVDQU32 Z13, 128(DI)(AX*4)                 // store dst[i+32 : i+48]
	VMOVDQU32 Z14, 192(DI)(AX*4)                 // store dst[i+48 : i+64]
	ADDQ $64, AX                                 // i += 64
	CMPQ AX, CX                                  // more blocks?
	JB decode8_loop                              // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
