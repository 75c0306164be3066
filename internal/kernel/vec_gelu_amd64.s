// The float32 kernels of GELU32 and ExpScaled32 in AVX2 (vec_gelu_amd64.go
// calls them when the CPU has AVX2). Each handles n elements, n a positive
// multiple of 8; the Go caller runs the pure-Go twin (geluGo, expScaledGo)
// on the remaining tail.

//go:build amd64 && !purego

#include "textflag.h"

// Row offsets of geluTable (vec_gelu.go's geluConsts, 32 bytes a row).
#define CLAMP 0
#define NCLAMP 32
#define NHALF 64
#define EXPMIN 96
#define LOG2E 128
#define LN2HI 160
#define LN2LO 192
#define C7 224
#define C6 256
#define C5 288
#define C4 320
#define C3 352
#define C2 384
#define ONE 416
#define ERFP 448
#define A5 480
#define A4 512
#define A3 544
#define A2 576
#define A1 608
#define INVSQRT2PI 640
#define TWO 672

// geluInts holds, in eight lanes each, the mask that clears the sign bit
// (offset 0) and the exponent bias 127 (offset 32).
DATA geluInts<>+0(SB)/8, $0x7fffffff7fffffff
DATA geluInts<>+8(SB)/8, $0x7fffffff7fffffff
DATA geluInts<>+16(SB)/8, $0x7fffffff7fffffff
DATA geluInts<>+24(SB)/8, $0x7fffffff7fffffff
DATA geluInts<>+32(SB)/8, $0x0000007f0000007f
DATA geluInts<>+40(SB)/8, $0x0000007f0000007f
DATA geluInts<>+48(SB)/8, $0x0000007f0000007f
DATA geluInts<>+56(SB)/8, $0x0000007f0000007f
GLOBL geluInts<>(SB), RODATA|NOPTR, $64

// func geluAVX2(n int, f, d1, d2, x *float32, table *[22][8]float32)
//
// For every block of 8 elements, the steps of geluGo (vec_gelu.go) in the
// same order, each product rounded before its sum (no fused multiply-add):
//
//	xc = min(max(x, −16), 16); z = xc²; y = −z/2; keep = y ≥ −87; y = max(y, −87)
//	n = round(y·log₂e); r = (y − n·ln2hi) − n·ln2lo; p = Taylor₇(r); e = p·2ⁿ, 0 where !keep
//	t = 1/(1 + p_erf·|xc|); q = t·(a₁ + t·(a₂ + t·(a₃ + t·(a₄ + t·a₅)))); h = q·e·½
//	cdf = h where x's sign bit is set, else 1 − h; φ = e/√(2π)
//	f = x·cdf; d1 = cdf + xc·φ; d2 = (2 − z)·φ
//
// Registers: Y0 = x, Y1 = xc, Y2 = z, Y3 = y then r, Y4 = keep mask,
// Y5 = n then 2ⁿ, Y6 = n as float, Y7 = p then e then φ, Y8 = 1 + p_erf·|xc|,
// Y9 = t, Y10 = q then h, Y11 = 1 − h, Y12 = cdf, Y13, Y14 = results,
// Y15 = 1 in every lane; SI = x, DI = f, R8 = d1, R9 = d2, DX = table,
// AX = byte offset of the block, CX = n in bytes.
TEXT ·geluAVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ f+8(FP), DI                             // DI = &f[0]
	MOVQ d1+16(FP), R8                           // R8 = &d1[0]
	MOVQ d2+24(FP), R9                           // R9 = &d2[0]
	MOVQ x+32(FP), SI                            // SI = &x[0]
	MOVQ table+40(FP), DX                        // DX = &table[0][0]
	VMOVUPS ONE(DX), Y15                         // Y15 = 1
	XORQ AX, AX                                  // AX = 0, byte offset
gelu_loop:
	VMOVUPS (SI)(AX*1), Y0                       // Y0 = x
	VMAXPS NCLAMP(DX), Y0, Y1                    // Y1 = max(x, −16)
	VMINPS CLAMP(DX), Y1, Y1                     // Y1 = xc = min(·, 16)
	VMULPS Y1, Y1, Y2                            // Y2 = z = xc²
	VMULPS NHALF(DX), Y2, Y3                     // Y3 = y = −z/2
	VCMPPS $0x0D, EXPMIN(DX), Y3, Y4             // Y4 = keep = (y ≥ −87), all ones or zeros
	VMAXPS EXPMIN(DX), Y3, Y3                    // Y3 = y = max(y, −87)
	VMULPS LOG2E(DX), Y3, Y5                     // Y5 = y·log₂e
	VCVTPS2DQ Y5, Y5                             // Y5 = n = round to nearest even, int32
	VCVTDQ2PS Y5, Y6                             // Y6 = n as float32
	VMULPS LN2HI(DX), Y6, Y7                     // Y7 = n·ln2hi (exact)
	VSUBPS Y7, Y3, Y3                            // Y3 = y − n·ln2hi
	VMULPS LN2LO(DX), Y6, Y7                     // Y7 = n·ln2lo
	VSUBPS Y7, Y3, Y3                            // Y3 = r
	VMULPS C7(DX), Y3, Y7                        // Y7 = r/5040
	VADDPS C6(DX), Y7, Y7                        // Y7 = · + 1/720
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS C5(DX), Y7, Y7                        // Y7 = · + 1/120
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS C4(DX), Y7, Y7                        // Y7 = · + 1/24
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS C3(DX), Y7, Y7                        // Y7 = · + 1/6
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS C2(DX), Y7, Y7                        // Y7 = · + 1/2
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS Y15, Y7, Y7                           // Y7 = · + 1
	VMULPS Y3, Y7, Y7                            // Y7 = ·r
	VADDPS Y15, Y7, Y7                           // Y7 = p = · + 1 ≈ e^r
	VPADDD geluInts<>+32(SB), Y5, Y5             // Y5 = n + 127, the biased exponent
	VPSLLD $23, Y5, Y5                           // Y5 = 2ⁿ as float32 bits
	VMULPS Y5, Y7, Y7                            // Y7 = e = p·2ⁿ
	VANDPS Y4, Y7, Y7                            // Y7 = e, 0 where !keep
	VANDPS geluInts<>+0(SB), Y1, Y8                 // Y8 = |xc|
	VMULPS ERFP(DX), Y8, Y8                      // Y8 = p_erf·|xc|
	VADDPS Y15, Y8, Y8                           // Y8 = 1 + p_erf·|xc|
	VDIVPS Y8, Y15, Y9                           // Y9 = t = 1/Y8
	VMULPS A5(DX), Y9, Y10                       // Y10 = t·a₅
	VADDPS A4(DX), Y10, Y10                      // Y10 = · + a₄
	VMULPS Y9, Y10, Y10                          // Y10 = ·t
	VADDPS A3(DX), Y10, Y10                      // Y10 = · + a₃
	VMULPS Y9, Y10, Y10                          // Y10 = ·t
	VADDPS A2(DX), Y10, Y10                      // Y10 = · + a₂
	VMULPS Y9, Y10, Y10                          // Y10 = ·t
	VADDPS A1(DX), Y10, Y10                      // Y10 = · + a₁
	VMULPS Y9, Y10, Y10                          // Y10 = q = ·t
	VMULPS Y7, Y10, Y10                          // Y10 = q·e = erfc(|x|/√2)
	VMULPS C2(DX), Y10, Y10                      // Y10 = h = Φ(−|x|)
	VSUBPS Y10, Y15, Y11                         // Y11 = 1 − h
	VBLENDVPS Y0, Y10, Y11, Y12                  // Y12 = cdf = h where x's sign bit is set, else 1 − h
	VMULPS Y12, Y0, Y13                          // Y13 = f = x·cdf
	VMOVUPS Y13, (DI)(AX*1)                      // store f
	VMULPS INVSQRT2PI(DX), Y7, Y7                // Y7 = φ = e/√(2π)
	VMULPS Y7, Y1, Y14                           // Y14 = xc·φ
	VADDPS Y14, Y12, Y14                         // Y14 = d1 = cdf + xc·φ
	VMOVUPS Y14, (R8)(AX*1)                      // store d1
	VMOVUPS TWO(DX), Y13                         // Y13 = 2
	VSUBPS Y2, Y13, Y13                          // Y13 = 2 − z
	VMULPS Y7, Y13, Y13                          // Y13 = d2 = (2 − z)·φ
	VMOVUPS Y13, (R9)(AX*1)                      // store d2
	ADDQ $32, AX                                 // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB gelu_loop                                 // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func expScaledAVX2(n int, dst, x *float32, scale, shift float32, table *[22][8]float32)
//
// dst ← e^{scale·x − shift} on n elements (n a multiple of 8): expScaledGo
// and expNeg32 (vec_gelu.go) step by step, no fused multiply-add:
//
//	y = scale·x − shift; keep = y ≥ −87; y = max(y, −87)
//	n = round(y·log₂e); r = (y − n·ln2hi) − n·ln2lo; e = Taylor₇(r)·2ⁿ, 0 where !keep
//
// Registers: Y0 = y then r, Y4 = keep mask, Y5 = n then 2ⁿ, Y6 = n as
// float, Y7 = the polynomial, Y13 = scale, Y14 = shift, Y15 = 1 in every
// lane; SI = x, DI = dst, DX = table, AX = byte offset, CX = n in bytes.
TEXT ·expScaledAVX2(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ x+16(FP), SI                            // SI = &x[0]
	VBROADCASTSS scale+24(FP), Y13               // Y13 = scale in every lane
	VBROADCASTSS shift+28(FP), Y14               // Y14 = shift in every lane
	MOVQ table+32(FP), DX                        // DX = &table[0][0]
	VMOVUPS ONE(DX), Y15                         // Y15 = 1
	XORQ AX, AX                                  // AX = 0, byte offset
exp_loop:
	VMULPS (SI)(AX*1), Y13, Y0                   // Y0 = scale·x
	VSUBPS Y14, Y0, Y0                           // Y0 = y = scale·x − shift
	VCMPPS $0x0D, EXPMIN(DX), Y0, Y4             // Y4 = keep = (y ≥ −87)
	VMAXPS EXPMIN(DX), Y0, Y0                    // Y0 = max(y, −87)
	VMULPS LOG2E(DX), Y0, Y5                     // Y5 = y·log₂e
	VCVTPS2DQ Y5, Y5                             // Y5 = n, rounded to nearest even
	VCVTDQ2PS Y5, Y6                             // Y6 = n as float32
	VMULPS LN2HI(DX), Y6, Y7                     // Y7 = n·ln2hi (exact)
	VSUBPS Y7, Y0, Y0                            // Y0 = y − n·ln2hi
	VMULPS LN2LO(DX), Y6, Y7                     // Y7 = n·ln2lo
	VSUBPS Y7, Y0, Y0                            // Y0 = r
	VMULPS C7(DX), Y0, Y7                        // Y7 = r/5040
	VADDPS C6(DX), Y7, Y7                        // Y7 = · + 1/720
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS C5(DX), Y7, Y7                        // Y7 = · + 1/120
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS C4(DX), Y7, Y7                        // Y7 = · + 1/24
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS C3(DX), Y7, Y7                        // Y7 = · + 1/6
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS C2(DX), Y7, Y7                        // Y7 = · + 1/2
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS Y15, Y7, Y7                           // Y7 = · + 1
	VMULPS Y0, Y7, Y7                            // Y7 = ·r
	VADDPS Y15, Y7, Y7                           // Y7 = p ≈ e^r
	VPADDD geluInts<>+32(SB), Y5, Y5             // Y5 = n + 127
	VPSLLD $23, Y5, Y5                           // Y5 = 2ⁿ as float32 bits
	VMULPS Y5, Y7, Y7                            // Y7 = p·2ⁿ
	VANDPS Y4, Y7, Y7                            // Y7 = e, 0 where !keep
	VMOVUPS Y7, (DI)(AX*1)                       // store dst
	ADDQ $32, AX                                 // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB exp_loop                                  // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func geluAVX512(n int, f, d1, d2, x *float32, table *[22][8]float32)
//
// geluAVX2 on 16 elements at a time (n a multiple of 16), the same
// operations in the same order: constants are broadcast from the first
// lane of each table row, the keep mask and the sign select use opmask
// registers (K1 = keep, K2 = x's sign bits).
TEXT ·geluAVX512(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ f+8(FP), DI                             // DI = &f[0]
	MOVQ d1+16(FP), R8                           // R8 = &d1[0]
	MOVQ d2+24(FP), R9                           // R9 = &d2[0]
	MOVQ x+32(FP), SI                            // SI = &x[0]
	MOVQ table+40(FP), DX                        // DX = &table[0][0]
	VBROADCASTSS ONE(DX), Z15                    // Z15 = 1
	XORQ AX, AX                                  // AX = 0, byte offset
gelu512_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = x
	VMAXPS.BCST NCLAMP(DX), Z0, Z1               // Z1 = max(x, −16)
	VMINPS.BCST CLAMP(DX), Z1, Z1                // Z1 = xc = min(·, 16)
	VMULPS Z1, Z1, Z2                            // Z2 = z = xc²
	VMULPS.BCST NHALF(DX), Z2, Z3                // Z3 = y = −z/2
	VCMPPS.BCST $0x0D, EXPMIN(DX), Z3, K1        // K1 = keep = (y ≥ −87)
	VMAXPS.BCST EXPMIN(DX), Z3, Z3               // Z3 = y = max(y, −87)
	VMULPS.BCST LOG2E(DX), Z3, Z5                // Z5 = y·log₂e
	VCVTPS2DQ Z5, Z5                             // Z5 = n, rounded to nearest even
	VCVTDQ2PS Z5, Z6                             // Z6 = n as float32
	VMULPS.BCST LN2HI(DX), Z6, Z7                // Z7 = n·ln2hi (exact)
	VSUBPS Z7, Z3, Z3                            // Z3 = y − n·ln2hi
	VMULPS.BCST LN2LO(DX), Z6, Z7                // Z7 = n·ln2lo
	VSUBPS Z7, Z3, Z3                            // Z3 = r
	VMULPS.BCST C7(DX), Z3, Z7                   // Z7 = r/5040
	VADDPS.BCST C6(DX), Z7, Z7                   // Z7 = · + 1/720
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C5(DX), Z7, Z7                   // Z7 = · + 1/120
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C4(DX), Z7, Z7                   // Z7 = · + 1/24
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C3(DX), Z7, Z7                   // Z7 = · + 1/6
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C2(DX), Z7, Z7                   // Z7 = · + 1/2
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS Z15, Z7, Z7                           // Z7 = · + 1
	VMULPS Z3, Z7, Z7                            // Z7 = ·r
	VADDPS Z15, Z7, Z7                           // Z7 = p ≈ e^r
	VPADDD.BCST geluInts<>+32(SB), Z5, Z5        // Z5 = n + 127
	VPSLLD $23, Z5, Z5                           // Z5 = 2ⁿ as float32 bits
	VMULPS.Z Z5, Z7, K1, Z7                      // Z7 = e = p·2ⁿ, 0 where !keep
	VPANDD.BCST geluInts<>+0(SB), Z1, Z8         // Z8 = |xc|
	VMULPS.BCST ERFP(DX), Z8, Z8                 // Z8 = p_erf·|xc|
	VADDPS Z15, Z8, Z8                           // Z8 = 1 + p_erf·|xc|
	VDIVPS Z8, Z15, Z9                           // Z9 = t = 1/Z8
	VMULPS.BCST A5(DX), Z9, Z10                  // Z10 = t·a₅
	VADDPS.BCST A4(DX), Z10, Z10                 // Z10 = · + a₄
	VMULPS Z9, Z10, Z10                          // Z10 = ·t
	VADDPS.BCST A3(DX), Z10, Z10                 // Z10 = · + a₃
	VMULPS Z9, Z10, Z10                          // Z10 = ·t
	VADDPS.BCST A2(DX), Z10, Z10                 // Z10 = · + a₂
	VMULPS Z9, Z10, Z10                          // Z10 = ·t
	VADDPS.BCST A1(DX), Z10, Z10                 // Z10 = · + a₁
	VMULPS Z9, Z10, Z10                          // Z10 = q = ·t
	VMULPS Z7, Z10, Z10                          // Z10 = q·e = erfc(|x|/√2)
	VMULPS.BCST C2(DX), Z10, Z10                 // Z10 = h = Φ(−|x|)
	VSUBPS Z10, Z15, Z11                         // Z11 = 1 − h
	VPMOVD2M Z0, K2                              // K2 = x's sign bits
	VBLENDMPS Z10, Z11, K2, Z12                  // Z12 = cdf = h where the sign bit is set, else 1 − h
	VMULPS Z12, Z0, Z13                          // Z13 = f = x·cdf
	VMOVUPS Z13, (DI)(AX*1)                      // store f
	VMULPS.BCST INVSQRT2PI(DX), Z7, Z7           // Z7 = φ = e/√(2π)
	VMULPS Z7, Z1, Z14                           // Z14 = xc·φ
	VADDPS Z14, Z12, Z14                         // Z14 = d1 = cdf + xc·φ
	VMOVUPS Z14, (R8)(AX*1)                      // store d1
	VBROADCASTSS TWO(DX), Z13                    // Z13 = 2
	VSUBPS Z2, Z13, Z13                          // Z13 = 2 − z
	VMULPS Z7, Z13, Z13                          // Z13 = d2 = (2 − z)·φ
	VMOVUPS Z13, (R9)(AX*1)                      // store d2
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB gelu512_loop                              // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func expScaledAVX512(n int, dst, x *float32, scale, shift float32, table *[22][8]float32)
//
// expScaledAVX2 on 16 elements at a time (n a multiple of 16), the same
// operations in the same order; K1 = keep.
TEXT ·expScaledAVX512(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ x+16(FP), SI                            // SI = &x[0]
	VBROADCASTSS scale+24(FP), Z13               // Z13 = scale in every lane
	VBROADCASTSS shift+28(FP), Z14               // Z14 = shift in every lane
	MOVQ table+32(FP), DX                        // DX = &table[0][0]
	VBROADCASTSS ONE(DX), Z15                    // Z15 = 1
	XORQ AX, AX                                  // AX = 0, byte offset
exp512_loop:
	VMULPS (SI)(AX*1), Z13, Z0                   // Z0 = scale·x
	VSUBPS Z14, Z0, Z0                           // Z0 = y = scale·x − shift
	VCMPPS.BCST $0x0D, EXPMIN(DX), Z0, K1        // K1 = keep = (y ≥ −87)
	VMAXPS.BCST EXPMIN(DX), Z0, Z0               // Z0 = max(y, −87)
	VMULPS.BCST LOG2E(DX), Z0, Z5                // Z5 = y·log₂e
	VCVTPS2DQ Z5, Z5                             // Z5 = n, rounded to nearest even
	VCVTDQ2PS Z5, Z6                             // Z6 = n as float32
	VMULPS.BCST LN2HI(DX), Z6, Z7                // Z7 = n·ln2hi (exact)
	VSUBPS Z7, Z0, Z0                            // Z0 = y − n·ln2hi
	VMULPS.BCST LN2LO(DX), Z6, Z7                // Z7 = n·ln2lo
	VSUBPS Z7, Z0, Z0                            // Z0 = r
	VMULPS.BCST C7(DX), Z0, Z7                   // Z7 = r/5040
	VADDPS.BCST C6(DX), Z7, Z7                   // Z7 = · + 1/720
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C5(DX), Z7, Z7                   // Z7 = · + 1/120
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C4(DX), Z7, Z7                   // Z7 = · + 1/24
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C3(DX), Z7, Z7                   // Z7 = · + 1/6
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS.BCST C2(DX), Z7, Z7                   // Z7 = · + 1/2
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS Z15, Z7, Z7                           // Z7 = · + 1
	VMULPS Z0, Z7, Z7                            // Z7 = ·r
	VADDPS Z15, Z7, Z7                           // Z7 = p ≈ e^r
	VPADDD.BCST geluInts<>+32(SB), Z5, Z5        // Z5 = n + 127
	VPSLLD $23, Z5, Z5                           // Z5 = 2ⁿ as float32 bits
	VMULPS.Z Z5, Z7, K1, Z7                      // Z7 = e = p·2ⁿ, 0 where !keep
	VMOVUPS Z7, (DI)(AX*1)                       // store dst
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB exp512_loop                               // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func mulAddAVX512(n int, dst, a, b *float32)
//
// dst ← dst + a⊙b on n elements (n a multiple of 16): a product, then a
// sum (no fused multiply-add), as mulAddGo. Z0 = a·b, Z1 = the result;
// SI = a, BX = b, DI = dst, AX = byte offset, CX = n in bytes.
TEXT ·mulAddAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ a+16(FP), SI                            // SI = &a[0]
	MOVQ b+24(FP), BX                            // BX = &b[0]
	XORQ AX, AX                                  // AX = 0, byte offset
muladd512_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = a
	VMULPS (BX)(AX*1), Z0, Z0                    // Z0 = a·b
	VADDPS (DI)(AX*1), Z0, Z1                    // Z1 = dst + a·b
	VMOVUPS Z1, (DI)(AX*1)                       // store dst
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB muladd512_loop                            // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func mulAddAVX2(n int, dst, a, b *float32)
//
// mulAddAVX512 on 8 elements at a time (n a multiple of 8).
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ a+16(FP), SI                            // SI = &a[0]
	MOVQ b+24(FP), BX                            // BX = &b[0]
	XORQ AX, AX                                  // AX = 0, byte offset
muladd2_loop:
	VMOVUPS (SI)(AX*1), Y0                       // Y0 = a
	VMULPS (BX)(AX*1), Y0, Y0                    // Y0 = a·b
	VADDPS (DI)(AX*1), Y0, Y1                    // Y1 = dst + a·b
	VMOVUPS Y1, (DI)(AX*1)                       // store dst
	ADDQ $32, AX                                 // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB muladd2_loop                              // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func mulAVX512(n int, dst, a, b *float32)
//
// dst ← a⊙b on n elements (n a multiple of 16), as mulGo. Z0 = a·b;
// SI = a, BX = b, DI = dst, AX = byte offset, CX = n in bytes.
TEXT ·mulAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ a+16(FP), SI                            // SI = &a[0]
	MOVQ b+24(FP), BX                            // BX = &b[0]
	XORQ AX, AX                                  // AX = 0, byte offset
mul512_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = a
	VMULPS (BX)(AX*1), Z0, Z0                    // Z0 = a·b
	VMOVUPS Z0, (DI)(AX*1)                       // store dst
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB mul512_loop                               // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func mulAVX2(n int, dst, a, b *float32)
//
// mulAVX512 on 8 elements at a time (n a multiple of 8).
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ a+16(FP), SI                            // SI = &a[0]
	MOVQ b+24(FP), BX                            // BX = &b[0]
	XORQ AX, AX                                  // AX = 0, byte offset
mul2_loop:
	VMOVUPS (SI)(AX*1), Y0                       // Y0 = a
	VMULPS (BX)(AX*1), Y0, Y0                    // Y0 = a·b
	VMOVUPS Y0, (DI)(AX*1)                       // store dst
	ADDQ $32, AX                                 // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB mul2_loop                                 // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
