// Hand-written vector kernels for float32: axpy, dot and the fused Adam step,
// each in an AVX-512 and an AVX2 variant (vec_amd64.go picks one at start-up).
// Every kernel handles n elements, n a positive multiple of its lane count
// (16 or 8); the Go callers run the pure-Go twin on the remaining tail.

//go:build amd64 && !purego

#include "textflag.h"
#include "adam_amd64.h"

// func axpyAVX512(n int, alpha float32, x, y *float32)
//
// y ← y + alpha·x on n elements (n a multiple of 16). Reference loop (the
// pure-Go twin is axpyGo; a product then a sum, no fused multiply-add, so
// the results are the same bits):
//
//	for i < n: y[i] += alpha * x[i]
//
// Registers: Z15 = alpha in every lane; Z0–Z3 hold four blocks of 16;
// SI = x, DI = y, AX = byte offset of the current block, CX = n in bytes,
// DX = bytes covered by whole four-block steps.
TEXT ·axpyAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	VBROADCASTSS alpha+8(FP), Z15                // Z15 = alpha in every lane
	MOVQ x+16(FP), SI                            // SI = &x[0]
	MOVQ y+24(FP), DI                            // DI = &y[0]
	XORQ AX, AX                                  // AX = 0, byte offset
	MOVQ CX, DX                                  // DX = n in bytes
	ANDQ $-256, DX                               // DX = bytes in whole blocks of 64 elements
	JZ axpyAVX512_one                            // none: go to the one-block loop
axpyAVX512_four:
	VMULPS 0(SI)(AX*1), Z15, Z0                  // Z0 = alpha·x[i+0 : i+16]
	VMULPS 64(SI)(AX*1), Z15, Z1                 // Z1 = alpha·x[i+16 : i+32]
	VMULPS 128(SI)(AX*1), Z15, Z2                // Z2 = alpha·x[i+32 : i+48]
	VMULPS 192(SI)(AX*1), Z15, Z3                // Z3 = alpha·x[i+48 : i+64]
	VADDPS 0(DI)(AX*1), Z0, Z0                   // Z0 = y[i+0 : i+16] + alpha·x
	VADDPS 64(DI)(AX*1), Z1, Z1                  // Z1 = y[i+16 : i+32] + alpha·x
	VADDPS 128(DI)(AX*1), Z2, Z2                 // Z2 = y[i+32 : i+48] + alpha·x
	VADDPS 192(DI)(AX*1), Z3, Z3                 // Z3 = y[i+48 : i+64] + alpha·x
	VMOVUPS Z0, 0(DI)(AX*1)                      // store y[i+0 : i+16]
	VMOVUPS Z1, 64(DI)(AX*1)                     // store y[i+16 : i+32]
	VMOVUPS Z2, 128(DI)(AX*1)                    // store y[i+32 : i+48]
	VMOVUPS Z3, 192(DI)(AX*1)                    // store y[i+48 : i+64]
	ADDQ $256, AX                                // i += 64
	CMPQ AX, DX                                  // more whole four-block steps?
	JB axpyAVX512_four                           // then loop
axpyAVX512_one:
	CMPQ AX, CX                                  // any block of 16 left?
	JAE axpyAVX512_done                          // no: done
	VMULPS (SI)(AX*1), Z15, Z0                   // Z0 = alpha·x[i : i+16]
	VADDPS (DI)(AX*1), Z0, Z0                    // Z0 = y[i : i+16] + alpha·x
	VMOVUPS Z0, (DI)(AX*1)                       // store y[i : i+16]
	ADDQ $64, AX                                 // i += 16
	JMP axpyAVX512_one                           // next block
axpyAVX512_done:
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func axpyAVX2(n int, alpha float32, x, y *float32)
//
// y ← y + alpha·x on n elements (n a multiple of 8). Reference loop (the
// pure-Go twin is axpyGo; a product then a sum, no fused multiply-add, so
// the results are the same bits):
//
//	for i < n: y[i] += alpha * x[i]
//
// Registers: Y15 = alpha in every lane; Y0–Y3 hold four blocks of 8;
// SI = x, DI = y, AX = byte offset of the current block, CX = n in bytes,
// DX = bytes covered by whole four-block steps.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	VBROADCASTSS alpha+8(FP), Y15                // Y15 = alpha in every lane
	MOVQ x+16(FP), SI                            // SI = &x[0]
	MOVQ y+24(FP), DI                            // DI = &y[0]
	XORQ AX, AX                                  // AX = 0, byte offset
	MOVQ CX, DX                                  // DX = n in bytes
	ANDQ $-128, DX                               // DX = bytes in whole blocks of 32 elements
	JZ axpyAVX2_one                              // none: go to the one-block loop
axpyAVX2_four:
	VMULPS 0(SI)(AX*1), Y15, Y0                  // Y0 = alpha·x[i+0 : i+8]
	VMULPS 32(SI)(AX*1), Y15, Y1                 // Y1 = alpha·x[i+8 : i+16]
	VMULPS 64(SI)(AX*1), Y15, Y2                 // Y2 = alpha·x[i+16 : i+24]
	VMULPS 96(SI)(AX*1), Y15, Y3                 // Y3 = alpha·x[i+24 : i+32]
	VADDPS 0(DI)(AX*1), Y0, Y0                   // Y0 = y[i+0 : i+8] + alpha·x
	VADDPS 32(DI)(AX*1), Y1, Y1                  // Y1 = y[i+8 : i+16] + alpha·x
	VADDPS 64(DI)(AX*1), Y2, Y2                  // Y2 = y[i+16 : i+24] + alpha·x
	VADDPS 96(DI)(AX*1), Y3, Y3                  // Y3 = y[i+24 : i+32] + alpha·x
	VMOVUPS Y0, 0(DI)(AX*1)                      // store y[i+0 : i+8]
	VMOVUPS Y1, 32(DI)(AX*1)                     // store y[i+8 : i+16]
	VMOVUPS Y2, 64(DI)(AX*1)                     // store y[i+16 : i+24]
	VMOVUPS Y3, 96(DI)(AX*1)                     // store y[i+24 : i+32]
	ADDQ $128, AX                                // i += 32
	CMPQ AX, DX                                  // more whole four-block steps?
	JB axpyAVX2_four                             // then loop
axpyAVX2_one:
	CMPQ AX, CX                                  // any block of 8 left?
	JAE axpyAVX2_done                            // no: done
	VMULPS (SI)(AX*1), Y15, Y0                   // Y0 = alpha·x[i : i+8]
	VADDPS (DI)(AX*1), Y0, Y0                    // Y0 = y[i : i+8] + alpha·x
	VMOVUPS Y0, (DI)(AX*1)                       // store y[i : i+8]
	ADDQ $32, AX                                 // i += 8
	JMP axpyAVX2_one                             // next block
axpyAVX2_done:
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func dotAVX512(n int, x, y *float32) float64
//
// Σ x[i]·y[i] over n elements (n a multiple of 16), in float64. Reference
// loop (the pure-Go twin is dotGo):
//
//	s := 0.0; for i < n: s += float64(x[i]) * float64(y[i])
//
// Each product of two float32 values is exact in float64, so the fused
// multiply-add rounds only the sum, as the twin does; the order of the
// additions differs: 32 partial sums (four registers of 8 lanes, element i
// going to register (i/8) mod 4, lane i mod 8), added at the end in a fixed
// tree, so every call gives the same bits for the same input.
//
// Registers: Z0–Z3 accumulate; Z4–Z7 receive x widened to float64, Z8–Z11 y;
// SI = x, DI = y, AX = byte offset, CX = n in bytes, DX = bytes covered by
// whole two-block steps.
TEXT ·dotAVX512(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ x+8(FP), SI                             // SI = &x[0]
	MOVQ y+16(FP), DI                            // DI = &y[0]
	XORQ AX, AX                                  // AX = 0, byte offset
	VPXORQ Z0, Z0, Z0                            // acc0 = 0
	VPXORQ Z1, Z1, Z1                            // acc1 = 0
	VPXORQ Z2, Z2, Z2                            // acc2 = 0
	VPXORQ Z3, Z3, Z3                            // acc3 = 0
	MOVQ CX, DX                                  // DX = n in bytes
	ANDQ $-128, DX                               // DX = bytes in whole steps of 32 elements
	JZ dotAVX512_one                             // none: go to the last block
dotAVX512_two:
	VCVTPS2PD 0(SI)(AX*1), Z4                    // Z4 = float64(x[i+0 : i+8])
	VCVTPS2PD 32(SI)(AX*1), Z5                   // Z5 = float64(x[i+8 : i+16])
	VCVTPS2PD 64(SI)(AX*1), Z6                   // Z6 = float64(x[i+16 : i+24])
	VCVTPS2PD 96(SI)(AX*1), Z7                   // Z7 = float64(x[i+24 : i+32])
	VCVTPS2PD 0(DI)(AX*1), Z8                    // Z8 = float64(y[i+0 : i+8])
	VCVTPS2PD 32(DI)(AX*1), Z9                   // Z9 = float64(y[i+8 : i+16])
	VCVTPS2PD 64(DI)(AX*1), Z10                  // Z10 = float64(y[i+16 : i+24])
	VCVTPS2PD 96(DI)(AX*1), Z11                  // Z11 = float64(y[i+24 : i+32])
	VFMADD231PD Z8, Z4, Z0                       // acc0 += x·y (exact products)
	VFMADD231PD Z9, Z5, Z1                       // acc1 += x·y (exact products)
	VFMADD231PD Z10, Z6, Z2                      // acc2 += x·y (exact products)
	VFMADD231PD Z11, Z7, Z3                      // acc3 += x·y (exact products)
	ADDQ $128, AX                                // i += 32
	CMPQ AX, DX                                  // more whole steps?
	JB dotAVX512_two                             // then loop
dotAVX512_one:
	CMPQ AX, CX                                  // one block of 16 left (n is a multiple of 16)?
	JAE dotAVX512_sum                            // no: reduce
	VCVTPS2PD 0(SI)(AX*1), Z4                    // Z4 = float64(x[i+0 : i+8])
	VCVTPS2PD 32(SI)(AX*1), Z5                   // Z5 = float64(x[i+8 : i+16])
	VCVTPS2PD 0(DI)(AX*1), Z8                    // Z8 = float64(y[i+0 : i+8])
	VCVTPS2PD 32(DI)(AX*1), Z9                   // Z9 = float64(y[i+8 : i+16])
	VFMADD231PD Z8, Z4, Z0                       // acc0 += x·y
	VFMADD231PD Z9, Z5, Z1                       // acc1 += x·y
dotAVX512_sum:
	VADDPD Z1, Z0, Z0                            // acc0 += acc1
	VADDPD Z3, Z2, Z2                            // acc2 += acc3
	VADDPD Z2, Z0, Z0                            // acc0 += acc2
	VEXTRACTF64X4 $1, Z0, Y1                     // Y1 = lanes 4–7 of acc0
	VADDPD Y1, Y0, Y0                            // Y0 = four partial sums
	VEXTRACTF128 $1, Y0, X1                      // X1 = lanes 2–3
	VADDPD X1, X0, X0                            // X0 = two partial sums
	VUNPCKHPD X0, X0, X1                         // X1 = lane 1
	VADDSD X1, X0, X0                            // X0 = the sum
	VMOVSD X0, ret+24(FP)                        // return it
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func dotAVX2(n int, x, y *float32) float64
//
// Σ x[i]·y[i] over n elements (n a multiple of 8), in float64. Reference
// loop (the pure-Go twin is dotGo):
//
//	s := 0.0; for i < n: s += float64(x[i]) * float64(y[i])
//
// Each product of two float32 values is exact in float64, so the fused
// multiply-add rounds only the sum, as the twin does; the order of the
// additions differs: 16 partial sums (four registers of 4 lanes, element i
// going to register (i/4) mod 4, lane i mod 4), added at the end in a fixed
// tree, so every call gives the same bits for the same input.
//
// Registers: Y0–Y3 accumulate; Y4–Y7 receive x widened to float64, Y8–Y11 y;
// SI = x, DI = y, AX = byte offset, CX = n in bytes, DX = bytes covered by
// whole two-block steps.
TEXT ·dotAVX2(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ x+8(FP), SI                             // SI = &x[0]
	MOVQ y+16(FP), DI                            // DI = &y[0]
	XORQ AX, AX                                  // AX = 0, byte offset
	VXORPD Y0, Y0, Y0                            // acc0 = 0
	VXORPD Y1, Y1, Y1                            // acc1 = 0
	VXORPD Y2, Y2, Y2                            // acc2 = 0
	VXORPD Y3, Y3, Y3                            // acc3 = 0
	MOVQ CX, DX                                  // DX = n in bytes
	ANDQ $-64, DX                                // DX = bytes in whole steps of 16 elements
	JZ dotAVX2_one                               // none: go to the last block
dotAVX2_two:
	VCVTPS2PD 0(SI)(AX*1), Y4                    // Y4 = float64(x[i+0 : i+4])
	VCVTPS2PD 16(SI)(AX*1), Y5                   // Y5 = float64(x[i+4 : i+8])
	VCVTPS2PD 32(SI)(AX*1), Y6                   // Y6 = float64(x[i+8 : i+12])
	VCVTPS2PD 48(SI)(AX*1), Y7                   // Y7 = float64(x[i+12 : i+16])
	VCVTPS2PD 0(DI)(AX*1), Y8                    // Y8 = float64(y[i+0 : i+4])
	VCVTPS2PD 16(DI)(AX*1), Y9                   // Y9 = float64(y[i+4 : i+8])
	VCVTPS2PD 32(DI)(AX*1), Y10                  // Y10 = float64(y[i+8 : i+12])
	VCVTPS2PD 48(DI)(AX*1), Y11                  // Y11 = float64(y[i+12 : i+16])
	VFMADD231PD Y8, Y4, Y0                       // acc0 += x·y (exact products)
	VFMADD231PD Y9, Y5, Y1                       // acc1 += x·y (exact products)
	VFMADD231PD Y10, Y6, Y2                      // acc2 += x·y (exact products)
	VFMADD231PD Y11, Y7, Y3                      // acc3 += x·y (exact products)
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, DX                                  // more whole steps?
	JB dotAVX2_two                               // then loop
dotAVX2_one:
	CMPQ AX, CX                                  // one block of 8 left (n is a multiple of 8)?
	JAE dotAVX2_sum                              // no: reduce
	VCVTPS2PD 0(SI)(AX*1), Y4                    // Y4 = float64(x[i+0 : i+4])
	VCVTPS2PD 16(SI)(AX*1), Y5                   // Y5 = float64(x[i+4 : i+8])
	VCVTPS2PD 0(DI)(AX*1), Y8                    // Y8 = float64(y[i+0 : i+4])
	VCVTPS2PD 16(DI)(AX*1), Y9                   // Y9 = float64(y[i+4 : i+8])
	VFMADD231PD Y8, Y4, Y0                       // acc0 += x·y
	VFMADD231PD Y9, Y5, Y1                       // acc1 += x·y
dotAVX2_sum:
	VADDPD Y1, Y0, Y0                            // acc0 += acc1
	VADDPD Y3, Y2, Y2                            // acc2 += acc3
	VADDPD Y2, Y0, Y0                            // acc0 += acc2
	VEXTRACTF128 $1, Y0, X1                      // X1 = lanes 2–3
	VADDPD X1, X0, X0                            // X0 = two partial sums
	VUNPCKHPD X0, X0, X1                         // X1 = lane 1
	VADDSD X1, X0, X0                            // X0 = the sum
	VMOVSD X0, ret+24(FP)                        // return it
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func adamAVX512(n int, u, m, v, grad, theta *float32, k *adamCoeffs[float32])
//
// The fused Adam step of AdamDirection on n elements (n a multiple of 16), AVX-512F.
// Reference loop (the pure-Go twin is adamGo; the same operations in the
// same order, no fused multiply-add, √ and ÷ correctly rounded, so the
// results are the same bits):
//
//	for i < n:
//		ĝ := c·g[i] + λ_c·θ[i]
//		m[i] = flush(β₁·m[i] + (1−β₁)·ĝ)
//		v[i] = flush(β₂·v[i] + ((1−β₂)·ĝ)·ĝ)
//		u[i] = mult·((m[i]·inv₁)/(√v[i]·inv₂ + ε) + λ_d·θ[i])
//
// k points at the twelve coefficients in the order of adamCoeffs (c, λ_c,
// β₁, 1−β₁, β₂, 1−β₂, inv₁, inv₂, ε, λ_d, mult, and the smallest normal
// float32 that flush (flushSubnormal: a subnormal becomes ±0) compares
// with; 4 bytes each).
// Registers: Z16–Z26 hold the first eleven broadcast in that order, Z30
// the last; Z0–Z6 and K1
// are temporaries; DI = u, SI = m, DX = v, R8 = g, R9 = θ, AX = byte offset,
// CX = n in bytes.
TEXT ·adamAVX512(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ u+8(FP), DI                             // DI = &u[0]
	MOVQ m+16(FP), SI                            // SI = &m[0]
	MOVQ v+24(FP), DX                            // DX = &v[0]
	MOVQ grad+32(FP), R8                         // R8 = &g[0]
	MOVQ theta+40(FP), R9                        // R9 = &θ[0]
	MOVQ k+48(FP), R10                           // R10 = &coefficients
	ADAM_COEFFS_AVX512                           // Z16–Z26, Z30 = the coefficients in every lane
	XORQ AX, AX                                  // AX = 0, byte offset
adamAVX512_loop:
	ADAM_U_AVX512                                // store m, v; Z1 = θ, Z3 = u
	VMOVUPS Z3, (DI)(AX*1)                       // store u
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB adamAVX512_loop                           // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func adamAVX2(n int, u, m, v, grad, theta *float32, k *adamCoeffs[float32])
//
// The fused Adam step of AdamDirection on n elements (n a multiple of 8), AVX (8 lanes; the AVX2 set).
// Reference loop (the pure-Go twin is adamGo; the same operations in the
// same order, no fused multiply-add, √ and ÷ correctly rounded, so the
// results are the same bits):
//
//	for i < n:
//		ĝ := c·g[i] + λ_c·θ[i]
//		m[i] = flush(β₁·m[i] + (1−β₁)·ĝ)
//		v[i] = flush(β₂·v[i] + ((1−β₂)·ĝ)·ĝ)
//		u[i] = mult·((m[i]·inv₁)/(√v[i]·inv₂ + ε) + λ_d·θ[i])
//
// k points at the twelve coefficients in the order of adamCoeffs (c, λ_c,
// β₁, 1−β₁, β₂, 1−β₂, inv₁, inv₂, ε, λ_d, mult, and the smallest normal
// float32 that flush (flushSubnormal: a subnormal becomes ±0) compares
// with; 4 bytes each).
// Registers: Y5–Y15 hold the first eleven broadcast in that order (the
// last is loaded where it is compared); Y0–Y4
// are temporaries; DI = u, SI = m, DX = v, R8 = g, R9 = θ, AX = byte offset,
// CX = n in bytes.
TEXT ·adamAVX2(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ u+8(FP), DI                             // DI = &u[0]
	MOVQ m+16(FP), SI                            // SI = &m[0]
	MOVQ v+24(FP), DX                            // DX = &v[0]
	MOVQ grad+32(FP), R8                         // R8 = &g[0]
	MOVQ theta+40(FP), R9                        // R9 = &θ[0]
	MOVQ k+48(FP), R10                           // R10 = &coefficients
	VBROADCASTSS 0(R10), Y5                      // Y5 = c in every lane
	VBROADCASTSS 4(R10), Y6                      // Y6 = λ_c in every lane
	VBROADCASTSS 8(R10), Y7                      // Y7 = β₁ in every lane
	VBROADCASTSS 12(R10), Y8                     // Y8 = 1−β₁ in every lane
	VBROADCASTSS 16(R10), Y9                     // Y9 = β₂ in every lane
	VBROADCASTSS 20(R10), Y10                    // Y10 = 1−β₂ in every lane
	VBROADCASTSS 24(R10), Y11                    // Y11 = inv₁ in every lane
	VBROADCASTSS 28(R10), Y12                    // Y12 = inv₂ in every lane
	VBROADCASTSS 32(R10), Y13                    // Y13 = ε in every lane
	VBROADCASTSS 36(R10), Y14                    // Y14 = λ_d in every lane
	VBROADCASTSS 40(R10), Y15                    // Y15 = mult in every lane
	XORQ AX, AX                                  // AX = 0, byte offset
adamAVX2_loop:
	VMULPS (R8)(AX*1), Y5, Y0                    // Y0 = c·g
	VMOVUPS (R9)(AX*1), Y1                       // Y1 = θ
	VMULPS Y1, Y6, Y2                            // Y2 = λ_c·θ
	VADDPS Y2, Y0, Y0                            // Y0 = ĝ = c·g + λ_c·θ
	VMULPS (SI)(AX*1), Y7, Y3                    // Y3 = β₁·m
	VMULPS Y0, Y8, Y2                            // Y2 = (1−β₁)·ĝ
	VADDPS Y2, Y3, Y3                            // Y3 = m' = β₁·m + (1−β₁)·ĝ
	VPSLLD $1, Y3, Y2                            // Y2 = m' without its sign bit…
	VPSRLD $1, Y2, Y2                            // … = |m'|
	VBROADCASTSS 44(R10), Y4                     // Y4 = the smallest normal float32
	VCMPPS $0x11, Y4, Y2, Y2                     // Y2 = |m'| < smallest normal (false for NaN)
	VPSRLD $31, Y3, Y4                           // Y4 = m''s sign bit at bit 0…
	VPSLLD $31, Y4, Y4                           // … = ±0 with m''s sign
	VBLENDVPS Y2, Y4, Y3, Y3                     // subnormal m' → ±0
	VMOVUPS Y3, (SI)(AX*1)                       // store m'
	VMULPS (DX)(AX*1), Y9, Y4                    // Y4 = β₂·v
	VMULPS Y0, Y10, Y2                           // Y2 = (1−β₂)·ĝ
	VMULPS Y0, Y2, Y2                            // Y2 = ((1−β₂)·ĝ)·ĝ
	VADDPS Y2, Y4, Y4                            // Y4 = v' = β₂·v + (1−β₂)·ĝ²
	VPSLLD $1, Y4, Y2                            // Y2 = v' without its sign bit…
	VPSRLD $1, Y2, Y2                            // … = |v'|
	VBROADCASTSS 44(R10), Y0                     // Y0 = the smallest normal float32 (ĝ is no longer needed)
	VCMPPS $0x11, Y0, Y2, Y2                     // Y2 = |v'| < smallest normal
	VPSRLD $31, Y4, Y0                           // Y0 = v''s sign bit at bit 0…
	VPSLLD $31, Y0, Y0                           // … = ±0 with v''s sign
	VBLENDVPS Y2, Y0, Y4, Y4                     // subnormal v' → ±0
	VMOVUPS Y4, (DX)(AX*1)                       // store v'
	VSQRTPS Y4, Y4                               // Y4 = √v'
	VMULPS Y4, Y12, Y4                           // Y4 = √v'·inv₂
	VADDPS Y4, Y13, Y4                           // Y4 = √v'·inv₂ + ε
	VMULPS Y3, Y11, Y3                           // Y3 = m'·inv₁
	VDIVPS Y4, Y3, Y3                            // Y3 = (m'·inv₁)/(√v'·inv₂ + ε)
	VMULPS Y1, Y14, Y1                           // Y1 = λ_d·θ
	VADDPS Y1, Y3, Y3                            // Y3 += λ_d·θ
	VMULPS Y3, Y15, Y3                           // Y3 = mult·(…)
	VMOVUPS Y3, (DI)(AX*1)                       // store u
	ADDQ $32, AX                                 // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB adamAVX2_loop                             // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
