//go:build amd64 && !purego

#include "textflag.h"
#include "adam_amd64.h"

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
	ADAM_COEFFS_AVX512                           // Z16–Z26, Z30 = the coefficients in every lane
	VBROADCASTSS alpha+48(FP), Z27               // Z27 = α in every lane
	XORQ AX, AX                                  // AX = 0, byte offset
adamUpdateAVX512_loop:
	ADAM_U_AVX512                                // store m, v; Z1 = θ, Z3 = u
	VMULPS Z3, Z27, Z3                           // Z3 = α·u
	VADDPS Z1, Z3, Z1                            // Z1 = α·u + θ (axpyAVX512's operand order)
	VMOVUPS Z1, (R9)(AX*1)                       // store θ
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB adamUpdateAVX512_loop                     // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
