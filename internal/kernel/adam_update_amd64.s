//go:build amd64 && !purego

#include "textflag.h"

// func adamUpdateAVX512(n int, m, v, grad, theta *float32, k *adamCoeffs[float32], alpha float32)
//
// The fused Adam step and update of AdamUpdate on n elements (n a multiple
// of 16), AVX-512F. Reference loop (the pure-Go twin is adamUpdateGo; the
// operations of adamAVX512 in the same order, then those of axpyAVX512, no
// fused multiply-add, √ and ÷ correctly rounded, so the results are the
// bits of AdamDirection followed by Axpy):
//
//	for i < n:
//		ĝ := c·g[i] + λ_c·θ[i]
//		m[i] = flush(β₁·m[i] + (1−β₁)·ĝ)
//		v[i] = flush(β₂·v[i] + ((1−β₂)·ĝ)·ĝ)
//		u := mult·((m[i]·inv₁)/(√v[i]·inv₂ + ε) + λ_d·θ[i])
//		θ[i] = θ[i] + α·u
//
// k points at the twelve coefficients in the order of adamCoeffs (c, λ_c,
// β₁, 1−β₁, β₂, 1−β₂, inv₁, inv₂, ε, λ_d, mult, and the smallest normal
// float32 that flush (flushSubnormal: a subnormal becomes ±0) compares
// with; 4 bytes each). Registers: Z16–Z26 hold the first eleven broadcast
// in that order, Z30 the last, Z27 holds α; Z0–Z6 and K1 are temporaries; SI = m, DX = v, R8 = g, R9 = θ, AX =
// byte offset, CX = n in bytes.
TEXT ·adamUpdateAVX512(SB), NOSPLIT, $0-52
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ m+8(FP), SI                             // SI = &m[0]
	MOVQ v+16(FP), DX                            // DX = &v[0]
	MOVQ grad+24(FP), R8                         // R8 = &g[0]
	MOVQ theta+32(FP), R9                        // R9 = &θ[0]
	MOVQ k+40(FP), R10                           // R10 = &coefficients
	VBROADCASTSS 0(R10), Z16                     // Z16 = c in every lane
	VBROADCASTSS 4(R10), Z17                     // Z17 = λ_c in every lane
	VBROADCASTSS 8(R10), Z18                     // Z18 = β₁ in every lane
	VBROADCASTSS 12(R10), Z19                    // Z19 = 1−β₁ in every lane
	VBROADCASTSS 16(R10), Z20                    // Z20 = β₂ in every lane
	VBROADCASTSS 20(R10), Z21                    // Z21 = 1−β₂ in every lane
	VBROADCASTSS 24(R10), Z22                    // Z22 = inv₁ in every lane
	VBROADCASTSS 28(R10), Z23                    // Z23 = inv₂ in every lane
	VBROADCASTSS 32(R10), Z24                    // Z24 = ε in every lane
	VBROADCASTSS 36(R10), Z25                    // Z25 = λ_d in every lane
	VBROADCASTSS 40(R10), Z26                    // Z26 = mult in every lane
	VBROADCASTSS 44(R10), Z30                    // Z30 = the smallest normal float32 in every lane
	VBROADCASTSS alpha+48(FP), Z27               // Z27 = α in every lane
	XORQ AX, AX                                  // AX = 0, byte offset
adamUpdateAVX512_loop:
	VMULPS (R8)(AX*1), Z16, Z0                   // Z0 = c·g
	VMOVUPS (R9)(AX*1), Z1                       // Z1 = θ
	VMULPS Z1, Z17, Z2                           // Z2 = λ_c·θ
	VADDPS Z2, Z0, Z0                            // Z0 = ĝ = c·g + λ_c·θ
	VMULPS (SI)(AX*1), Z18, Z3                   // Z3 = β₁·m
	VMULPS Z0, Z19, Z2                           // Z2 = (1−β₁)·ĝ
	VADDPS Z2, Z3, Z3                            // Z3 = m' = β₁·m + (1−β₁)·ĝ
	VPSLLD $1, Z3, Z5                            // Z5 = m' without its sign bit…
	VPSRLD $1, Z5, Z5                            // … = |m'|
	VCMPPS $0x11, Z30, Z5, K1                    // K1 = |m'| < smallest normal (false for NaN)
	VPSRLD $31, Z3, Z6                           // Z6 = m''s sign bit at bit 0…
	VPSLLD $31, Z6, Z6                           // … = ±0 with m''s sign
	VMOVAPS Z6, K1, Z3                           // subnormal m' → ±0
	VMOVUPS Z3, (SI)(AX*1)                       // store m'
	VMULPS (DX)(AX*1), Z20, Z4                   // Z4 = β₂·v
	VMULPS Z0, Z21, Z2                           // Z2 = (1−β₂)·ĝ
	VMULPS Z0, Z2, Z2                            // Z2 = ((1−β₂)·ĝ)·ĝ
	VADDPS Z2, Z4, Z4                            // Z4 = v' = β₂·v + (1−β₂)·ĝ²
	VPSLLD $1, Z4, Z5                            // Z5 = v' without its sign bit…
	VPSRLD $1, Z5, Z5                            // … = |v'|
	VCMPPS $0x11, Z30, Z5, K1                    // K1 = |v'| < smallest normal
	VPSRLD $31, Z4, Z6                           // Z6 = v''s sign bit at bit 0…
	VPSLLD $31, Z6, Z6                           // … = ±0 with v''s sign
	VMOVAPS Z6, K1, Z4                           // subnormal v' → ±0
	VMOVUPS Z4, (DX)(AX*1)                       // store v'
	VSQRTPS Z4, Z4                               // Z4 = √v'
	VMULPS Z4, Z23, Z4                           // Z4 = √v'·inv₂
	VADDPS Z4, Z24, Z4                           // Z4 = √v'·inv₂ + ε
	VMULPS Z3, Z22, Z3                           // Z3 = m'·inv₁
	VDIVPS Z4, Z3, Z3                            // Z3 = (m'·inv₁)/(√v'·inv₂ + ε)
	VMULPS Z1, Z25, Z5                           // Z5 = λ_d·θ
	VADDPS Z5, Z3, Z3                            // Z3 += λ_d·θ
	VMULPS Z3, Z26, Z3                           // Z3 = u = mult·(…)
	VMULPS Z3, Z27, Z3                           // Z3 = α·u
	VADDPS Z1, Z3, Z1                            // Z1 = α·u + θ (axpyAVX512's operand order)
	VMOVUPS Z1, (R9)(AX*1)                       // store θ
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB adamUpdateAVX512_loop                     // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
