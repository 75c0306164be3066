// LayerNorm's row kernels in AVX-512 (vec_layernorm_amd64.go calls them
// when the CPU has AVX-512F and DQ). Each handles n elements, n a positive
// multiple of 16; the Go caller runs the pure-Go twin on the tail.

//go:build amd64 && !purego

#include "textflag.h"

// func lnRowAVX512(n int, o, x, gain, b *float32, m, r float32)
//
// o ← g·((x − m)·r) + b, as lnRowGo: a difference, two products, a sum.
// Z14 = m, Z15 = r; SI = x, BX = g, DX = b, DI = o, AX = byte offset,
// CX = n in bytes.
TEXT ·lnRowAVX512(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ o+8(FP), DI                             // DI = &o[0]
	MOVQ x+16(FP), SI                            // SI = &x[0]
	MOVQ gain+24(FP), BX                         // BX = &gain[0]
	MOVQ b+32(FP), DX                            // DX = &b[0]
	VBROADCASTSS m+40(FP), Z14                   // Z14 = m
	VBROADCASTSS r+44(FP), Z15                   // Z15 = r
	XORQ AX, AX                                  // AX = 0, byte offset
lnrow_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = x
	VSUBPS Z14, Z0, Z0                           // Z0 = x − m
	VMULPS Z15, Z0, Z0                           // Z0 = x̂ = (x − m)·r
	VMULPS (BX)(AX*1), Z0, Z0                    // Z0 = g·x̂
	VADDPS (DX)(AX*1), Z0, Z0                    // Z0 = g·x̂ + b
	VMOVUPS Z0, (DI)(AX*1)                       // store o
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB lnrow_loop                                // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func lnGradRowAVX512(n int, xg, gg, bg, x, gy, gain *float32, c *[4]float32)
//
// As lnGradRowGo, operation by operation (c = m, r, sh, shx):
//
//	x̂ = (x − m)·r;  xg += r·((gy·g − sh) − x̂·shx);  gg += gy·x̂;  bg += gy
//
// Z12 = m, Z13 = r, Z14 = sh, Z15 = shx; Z0 = x̂, Z1 = gy, Z2, Z3 scratch;
// DI = xg, R8 = gg, R9 = bg, SI = x, BX = gy, DX = g, AX = byte offset,
// CX = n in bytes.
TEXT ·lnGradRowAVX512(SB), NOSPLIT, $0-64
	MOVQ n+0(FP), CX                             // CX = n
	SHLQ $2, CX                                  // CX = n in bytes (×4)
	MOVQ xg+8(FP), DI                            // DI = &xg[0]
	MOVQ gg+16(FP), R8                           // R8 = &gg[0]
	MOVQ bg+24(FP), R9                           // R9 = &bg[0]
	MOVQ x+32(FP), SI                            // SI = &x[0]
	MOVQ gy+40(FP), BX                           // BX = &gy[0]
	MOVQ gain+48(FP), DX                         // DX = &gain[0]
	MOVQ c+56(FP), R10                           // R10 = &c[0]
	VBROADCASTSS 0(R10), Z12                     // Z12 = m
	VBROADCASTSS 4(R10), Z13                     // Z13 = r
	VBROADCASTSS 8(R10), Z14                     // Z14 = sh
	VBROADCASTSS 12(R10), Z15                    // Z15 = shx
	XORQ AX, AX                                  // AX = 0, byte offset
lngrad_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = x
	VSUBPS Z12, Z0, Z0                           // Z0 = x − m
	VMULPS Z13, Z0, Z0                           // Z0 = x̂
	VMOVUPS (BX)(AX*1), Z1                       // Z1 = gy
	VMULPS (DX)(AX*1), Z1, Z2                    // Z2 = gy·g
	VSUBPS Z14, Z2, Z2                           // Z2 = gy·g − sh
	VMULPS Z15, Z0, Z3                           // Z3 = x̂·shx
	VSUBPS Z3, Z2, Z2                            // Z2 = (gy·g − sh) − x̂·shx
	VMULPS Z13, Z2, Z2                           // Z2 = r·(…)
	VADDPS (DI)(AX*1), Z2, Z2                    // Z2 = xg + r·(…)
	VMOVUPS Z2, (DI)(AX*1)                       // store xg
	VMULPS Z0, Z1, Z3                            // Z3 = gy·x̂
	VADDPS (R8)(AX*1), Z3, Z3                    // Z3 = gg + gy·x̂
	VMOVUPS Z3, (R8)(AX*1)                       // store gg
	VADDPS (R9)(AX*1), Z1, Z1                    // Z1 = bg + gy
	VMOVUPS Z1, (R9)(AX*1)                       // store bg
	ADDQ $64, AX                                 // i += 16
	CMPQ AX, CX                                  // more blocks?
	JB lngrad_loop                               // then loop
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
