//go:build amd64 && !purego

#include "textflag.h"

// ReLU kernels on AVX-512, float32, 16 lanes; the reference loops are the
// Go twins in vec_relu.go (reluRowsGo, reluGradRowsGo, pool2x2ReLUGo). Each
// row runs in whole blocks of 16, then its tail under the mask K1.
//
// Go's max(x, 0) is 0 for x = −0 and NaN for a NaN x. VMAXPS returns its
// second source when the two compare equal as zeros or either is NaN, so
// max(0, x) with x second gives x there, and adding +0 then turns −0 into
// 0 and leaves every other value (NaN included) as it is.

// func reluRowsAVX512(rows, cols int, dst *float32, ldd int, src *float32, lds int, b float32)
//
// dst[r·ldd + j] = max(src[r·lds + j] + b, 0); rows ≥ 1. Z1 = b, Z2 = 0;
// SI = src row, DI = dst row, AX = byte offset in the row, BX = bytes in
// whole blocks, R8 = rows left, R9/R10 = ldd/lds in bytes.
TEXT ·reluRowsAVX512(SB), NOSPLIT, $0-52
	MOVQ rows+0(FP), R8                          // R8 = rows left
	MOVQ cols+8(FP), BX                          // BX = cols
	MOVQ dst+16(FP), DI                          // DI = &dst[0]
	MOVQ ldd+24(FP), R9                          // R9 = ldd
	SHLQ $2, R9                                  // in bytes
	MOVQ src+32(FP), SI                          // SI = &src[0]
	MOVQ lds+40(FP), R10                         // R10 = lds
	SHLQ $2, R10                                 // in bytes
	VBROADCASTSS b+48(FP), Z1                    // Z1 = b in every lane
	VPXORD Z2, Z2, Z2                            // Z2 = 0
	MOVQ BX, CX                                  // CX = cols
	ANDQ $15, CX                                 // CX = cols mod 16, the tail
	MOVQ $1, DX                                  // DX = 1
	SHLQ CX, DX                                  // DX = 2^tail
	DECQ DX                                      // DX = 2^tail − 1
	KMOVW DX, K1                                 // K1 = the tail's lanes
	ANDQ $-16, BX                                // BX = cols in whole blocks
	SHLQ $2, BX                                  // in bytes
relurows_row:
	XORQ AX, AX                                  // AX = 0, byte offset in the row
	TESTQ BX, BX                                 // any whole block?
	JEQ relurows_tail                            // no: only the tail
relurows_loop:
	VADDPS (SI)(AX*1), Z1, Z0                    // Z0 = z = src + b
	VMAXPS Z0, Z2, Z0                            // Z0 = max(0, z); z where z is NaN or ±0
	VADDPS Z2, Z0, Z0                            // −0 → 0, the rest unchanged
	VMOVUPS Z0, (DI)(AX*1)                       // store dst
	ADDQ $64, AX                                 // j += 16
	CMPQ AX, BX                                  // more whole blocks?
	JB relurows_loop                             // then loop
relurows_tail:
	KORTESTW K1, K1                              // a tail?
	JEQ relurows_next                            // no
	VMOVUPS.Z (SI)(AX*1), K1, Z0                 // Z0 = the tail of src, 0 past it
	VADDPS Z1, Z0, Z0                            // z = src + b
	VMAXPS Z0, Z2, Z0                            // max(0, z)
	VADDPS Z2, Z0, Z0                            // −0 → 0
	VMOVUPS Z0, K1, (DI)(AX*1)                   // store the tail only
relurows_next:
	ADDQ R10, SI                                 // next src row
	ADDQ R9, DI                                  // next dst row
	DECQ R8                                      // rows left
	JNZ relurows_row                             // another row?
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func reluGradRowsAVX512(rows, cols int, dst *float32, ldd int, grad *float32, ldg int, y *float32, ldy int, acc bool) float64
//
// t = [y > 0]·g; dst = t (or dst += t when acc); returns Σ t in float64,
// term j of a row in lane j mod 16: lanes 0–7 in Z7, 8–15 in Z8, then
// combined as reluGradRowsGo's sumLanes. rows ≥ 1. Z2 = 0, Z3 = 1;
// SI = g row, R11 = y row, DI = dst row, AX = byte offset in the row,
// BX = bytes in whole blocks, R8 = rows left, R9/R10/R12 = ldd/ldg/ldy
// in bytes, R13 = acc.
TEXT ·reluGradRowsAVX512(SB), NOSPLIT, $0-80
	MOVQ rows+0(FP), R8                          // R8 = rows left
	MOVQ cols+8(FP), BX                          // BX = cols
	MOVQ dst+16(FP), DI                          // DI = &dst[0]
	MOVQ ldd+24(FP), R9                          // R9 = ldd
	SHLQ $2, R9                                  // in bytes
	MOVQ grad+32(FP), SI                         // SI = &grad[0]
	MOVQ ldg+40(FP), R10                         // R10 = ldg
	SHLQ $2, R10                                 // in bytes
	MOVQ y+48(FP), R11                           // R11 = &y[0]
	MOVQ ldy+56(FP), R12                         // R12 = ldy
	SHLQ $2, R12                                 // in bytes
	MOVBQZX acc+64(FP), R13                      // R13 = acc
	MOVL $0x3f800000, DX                         // DX = 1.0 as float32 bits
	VPBROADCASTD DX, Z3                          // Z3 = 1 in every lane
	VPXORD Z2, Z2, Z2                            // Z2 = 0
	VPXORD Z7, Z7, Z7                            // Z7 = sums of lanes 0–7 (float64)
	VPXORD Z8, Z8, Z8                            // Z8 = sums of lanes 8–15
	MOVQ BX, CX                                  // CX = cols
	ANDQ $15, CX                                 // CX = the tail
	MOVQ $1, DX                                  // DX = 1
	SHLQ CX, DX                                  // DX = 2^tail
	DECQ DX                                      // DX = 2^tail − 1
	KMOVW DX, K1                                 // K1 = the tail's lanes
	ANDQ $-16, BX                                // BX = cols in whole blocks
	SHLQ $2, BX                                  // in bytes
relugrad_row:
	XORQ AX, AX                                  // AX = 0, byte offset in the row
	TESTQ BX, BX                                 // any whole block?
	JEQ relugrad_tail                            // no: only the tail
relugrad_loop:
	VMOVUPS (R11)(AX*1), Z0                      // Z0 = y
	VCMPPS $0x1e, Z2, Z0, K2                     // K2 = y > 0 (false for NaN)
	VMOVAPS.Z Z3, K2, Z4                         // Z4 = [y > 0] as 1 or 0
	VMULPS (SI)(AX*1), Z4, Z4                    // Z4 = t = [y > 0]·g
	TESTQ R13, R13                               // accumulate?
	JEQ relugrad_set                             // no
	VADDPS (DI)(AX*1), Z4, Z5                    // Z5 = dst + t
	VMOVUPS Z5, (DI)(AX*1)                       // store dst
	JMP relugrad_sum                             // then sum
relugrad_set:
	VMOVUPS Z4, (DI)(AX*1)                       // dst = t
relugrad_sum:
	VCVTPS2PD Y4, Z5                             // Z5 = t of lanes 0–7 in float64
	VADDPD Z5, Z7, Z7                            // add to their sums
	VEXTRACTF64X4 $1, Z4, Y6                     // Y6 = t of lanes 8–15
	VCVTPS2PD Y6, Z6                             // in float64
	VADDPD Z6, Z8, Z8                            // add to their sums
	ADDQ $64, AX                                 // j += 16
	CMPQ AX, BX                                  // more whole blocks?
	JB relugrad_loop                             // then loop
relugrad_tail:
	KORTESTW K1, K1                              // a tail?
	JEQ relugrad_next                            // no
	VMOVUPS.Z (R11)(AX*1), K1, Z0                // Z0 = the tail of y, 0 past it
	VCMPPS $0x1e, Z2, Z0, K2                     // K2 = y > 0 (false past the tail)
	VMOVAPS.Z Z3, K2, Z4                         // Z4 = [y > 0]
	VMOVUPS.Z (SI)(AX*1), K1, Z5                 // Z5 = the tail of g, 0 past it
	VMULPS Z5, Z4, Z4                            // Z4 = t (+0 past the tail)
	TESTQ R13, R13                               // accumulate?
	JEQ relugrad_settail                         // no
	VMOVUPS.Z (DI)(AX*1), K1, Z5                 // Z5 = the tail of dst
	VADDPS Z5, Z4, Z5                            // dst + t
	VMOVUPS Z5, K1, (DI)(AX*1)                   // store the tail only
	JMP relugrad_sumtail                         // then sum
relugrad_settail:
	VMOVUPS Z4, K1, (DI)(AX*1)                   // dst = t, the tail only
relugrad_sumtail:
	VCVTPS2PD Y4, Z5                             // lanes 0–7 (+0 past the tail: sums unchanged)
	VADDPD Z5, Z7, Z7                            // add to their sums
	VEXTRACTF64X4 $1, Z4, Y6                     // lanes 8–15
	VCVTPS2PD Y6, Z6                             // in float64
	VADDPD Z6, Z8, Z8                            // add to their sums
relugrad_next:
	ADDQ R10, SI                                 // next g row
	ADDQ R12, R11                                // next y row
	ADDQ R9, DI                                  // next dst row
	DECQ R8                                      // rows left
	JNZ relugrad_row                             // another row?
	VADDPD Z8, Z7, Z7                            // lane i + lane i+8
	VEXTRACTF64X4 $1, Z7, Y8                     // Y8 = lanes 4–7
	VADDPD Y8, Y7, Y7                            // lane i + lane i+4
	VEXTRACTF128 $1, Y7, X8                      // X8 = lanes 2–3
	VADDPD X8, X7, X7                            // lane i + lane i+2
	VUNPCKHPD X7, X7, X8                         // X8 = lane 1
	VADDSD X8, X7, X7                            // lane 0 + lane 1
	VMOVSD X7, ret+72(FP)                        // return the sum
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func pool2x2ReLUAVX512(pw int, src *float32, oc, rs int, bias *float32, c0 int32, dst *float32, arg *int32)
//
// One row of pw windows of pool2x2ReLUGo, 16 channels: src points at
// column c0 of the first channel, a column is oc floats, a row of the
// product rs columns; window pj reads columns c = c0 + 2·pj, c+1, c+rs,
// c+rs+1 and writes 16 maxima to dst and 16 argmax columns to arg, oc
// elements after the last window's. pw ≥ 1. Z1 = bias, Z2 = 0, Z9 = c,
// Z10 = rs, Z11 = 1, Z12 = rs+1, Z13 = 2; Z3–Z6 = za, zb, zc, zd;
// Z7 = best, Z14 = the argmax offset; R8 = a column in bytes, R9 = a row,
// R11 = two columns (the next window).
TEXT ·pool2x2ReLUAVX512(SB), NOSPLIT, $0-64
	MOVQ pw+0(FP), CX                            // CX = windows left
	MOVQ src+8(FP), SI                           // SI = &z(c0, o0) before the bias
	MOVQ oc+16(FP), R8                           // R8 = oc
	SHLQ $2, R8                                  // R8 = one column in bytes
	MOVQ rs+24(FP), R9                           // R9 = rs
	VPBROADCASTD R9, Z10                         // Z10 = rs
	IMULQ R8, R9                                 // R9 = one row in bytes
	LEAQ (R8)(R8*1), R11                         // R11 = two columns in bytes
	MOVQ bias+32(FP), DX                         // DX = &bias[o0]
	VMOVUPS (DX), Z1                             // Z1 = bias of the 16 channels
	MOVL c0+40(FP), DX                           // DX = c0
	VPBROADCASTD DX, Z9                          // Z9 = c, the first window's column
	MOVL $1, DX                                  // DX = 1
	VPBROADCASTD DX, Z11                         // Z11 = 1
	VPADDD Z11, Z10, Z12                         // Z12 = rs + 1
	MOVL $2, DX                                  // DX = 2
	VPBROADCASTD DX, Z13                         // Z13 = 2
	VPXORD Z2, Z2, Z2                            // Z2 = 0 (as float and as int)
	MOVQ dst+48(FP), DI                          // DI = &dst[o0]
	MOVQ arg+56(FP), R10                         // R10 = &arg[o0]
pool_loop:
	LEAQ (SI)(R9*1), BX                          // BX = the window's second row
	VADDPS (SI), Z1, Z3                          // Z3 = za = z(c) + bias
	VADDPS (SI)(R8*1), Z1, Z4                    // Z4 = zb = z(c+1) + bias
	VADDPS (BX), Z1, Z5                          // Z5 = zc = z(c+rs) + bias
	VADDPS (BX)(R8*1), Z1, Z6                    // Z6 = zd = z(c+rs+1) + bias
	VMAXPS Z4, Z3, Z7                            // Z7 = max(za, zb) (NaN: below)
	VMAXPS Z6, Z5, Z8                            // Z8 = max(zc, zd)
	VMAXPS Z8, Z7, Z7                            // Z7 = best
	VCMPPS $3, Z4, Z3, K1                        // K1 = za or zb is NaN
	VCMPPS $3, Z6, Z5, K2                        // K2 = zc or zd is NaN
	KORW K2, K1, K1                              // K1 = a NaN in the window
	VADDPS Z4, Z3, Z8                            // Z8 = za + zb
	VADDPS Z5, Z8, Z8                            // + zc
	VADDPS Z6, Z8, Z8                            // + zd: NaN where K1
	VMOVAPS Z8, K1, Z7                           // best = NaN where the window has one
	VMOVDQA32 Z12, Z14                           // Z14 = off = rs+1
	VCMPPS $0, Z7, Z5, K3                        // K3 = zc == best
	VMOVDQA32 Z10, K3, Z14                       // there off = rs
	VCMPPS $0, Z7, Z4, K3                        // K3 = zb == best
	VMOVDQA32 Z11, K3, Z14                       // there off = 1
	VCMPPS $0, Z7, Z3, K3                        // K3 = za == best
	VMOVDQA32 Z2, K3, Z14                        // there off = 0
	VPADDD Z9, Z14, Z14                          // Z14 = c + off
	VMOVDQU32 Z14, (R10)                         // store arg
	VMAXPS Z7, Z2, Z7                            // Z7 = max(0, best); best where NaN or ±0
	VADDPS Z2, Z7, Z7                            // −0 → 0
	VMOVUPS Z7, (DI)                             // store dst
	VPADDD Z13, Z9, Z9                           // c += 2
	ADDQ R11, SI                                 // next window
	ADDQ R8, DI                                  // next dst position
	ADDQ R8, R10                                 // next arg position
	DECQ CX                                      // windows left
	JNZ pool_loop                                // another?
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// ROWDOT_REDUCE stores to off(R8) the sum of the 16 lanes of z, combined
// pairwise (lane l + lane l+8, then l+4, l+2, l+1), with Z16 and Z17 as
// scratch: zmm-only shuffles, so that AVX512F suffices.
#define ROWDOT_REDUCE(z, off) \
	VSHUFF32X4 $0x0E, z, z, Z16 \ // Z16 lanes 0–7 = z lanes 8–15
	VADDPS Z16, z, Z16          \ // lanes 0–7: l + l+8
	VSHUFF32X4 $0x01, Z16, Z16, Z17 \ // Z17 lanes 0–3 = Z16 lanes 4–7
	VADDPS Z17, Z16, Z16        \ // lanes 0–3: l + l+4
	VPERMILPS $0x0E, Z16, Z17   \ // Z17 lanes 0–1 = Z16 lanes 2–3
	VADDPS Z17, Z16, Z16        \ // lanes 0–1: l + l+2
	VPERMILPS $0x01, Z16, Z17   \ // Z17 lane 0 = Z16 lane 1
	VADDPS Z17, Z16, Z16        \ // lane 0: l0 + l1
	VMOVSS X16, off(R8)           // store the sum

// func rowDotsAVX512(k int, a0, a1 *float32, rows *[8]*float32, out *[16]float32)
//
// out[r·8 + j] = Σ_t a_r[t]·b_j[t] for two rows a0, a1 of A and eight rows
// b_j of B, k ≥ 1: sixteen sums in Z0–Z15 (Z(r·8+j)), term t in lane
// t mod 16, fused multiply-adds; the tail of k under the mask K1 (zeros
// past it add +0·+0). SI, DI = a0, a1; BX, DX, R8–R13 = the rows of B;
// AX = byte offset, CX = bytes in whole blocks; Z16, Z17 = a0, a1 at t,
// Z18 = a row of B at t.
TEXT ·rowDotsAVX512(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX                             // CX = k
	ANDQ $15, CX                                 // CX = k mod 16, the tail
	MOVQ $1, DX                                  // DX = 1
	SHLQ CX, DX                                  // DX = 2^tail
	DECQ DX                                      // DX = 2^tail − 1
	KMOVW DX, K1                                 // K1 = the tail's lanes
	MOVQ k+0(FP), CX                             // CX = k
	ANDQ $-16, CX                                // in whole blocks
	SHLQ $2, CX                                  // in bytes
	MOVQ a0+8(FP), SI                            // SI = a0
	MOVQ a1+16(FP), DI                           // DI = a1
	MOVQ rows+24(FP), AX                         // AX = &rows
	MOVQ 0(AX), BX                               // BX = b_0
	MOVQ 8(AX), DX                               // DX = b_1
	MOVQ 16(AX), R8                              // R8 = b_2
	MOVQ 24(AX), R9                              // R9 = b_3
	MOVQ 32(AX), R10                             // R10 = b_4
	MOVQ 40(AX), R11                             // R11 = b_5
	MOVQ 48(AX), R12                             // R12 = b_6
	MOVQ 56(AX), R13                             // R13 = b_7
	VPXORD Z0, Z0, Z0                            // the sixteen sums = 0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ AX, AX                                  // AX = 0, byte offset
	TESTQ CX, CX                                 // any whole block?
	JEQ rowdots_tail                             // no: only the tail
rowdots_loop:
	VMOVUPS (SI)(AX*1), Z16                      // Z16 = a0[t:t+16]
	VMOVUPS (DI)(AX*1), Z17                      // Z17 = a1[t:t+16]
	VMOVUPS (BX)(AX*1), Z18                      // Z18 = b_0[t:t+16]
	VFMADD231PS Z18, Z16, Z0                     // Z0 += a0·b_0
	VFMADD231PS Z18, Z17, Z8                     // Z8 += a1·b_0
	VMOVUPS (DX)(AX*1), Z18                      // b_1
	VFMADD231PS Z18, Z16, Z1                     // Z1 += a0·b_1
	VFMADD231PS Z18, Z17, Z9                     // Z9 += a1·b_1
	VMOVUPS (R8)(AX*1), Z18                      // b_2
	VFMADD231PS Z18, Z16, Z2                     // Z2 += a0·b_2
	VFMADD231PS Z18, Z17, Z10                    // Z10 += a1·b_2
	VMOVUPS (R9)(AX*1), Z18                      // b_3
	VFMADD231PS Z18, Z16, Z3                     // Z3 += a0·b_3
	VFMADD231PS Z18, Z17, Z11                    // Z11 += a1·b_3
	VMOVUPS (R10)(AX*1), Z18                     // b_4
	VFMADD231PS Z18, Z16, Z4                     // Z4 += a0·b_4
	VFMADD231PS Z18, Z17, Z12                    // Z12 += a1·b_4
	VMOVUPS (R11)(AX*1), Z18                     // b_5
	VFMADD231PS Z18, Z16, Z5                     // Z5 += a0·b_5
	VFMADD231PS Z18, Z17, Z13                    // Z13 += a1·b_5
	VMOVUPS (R12)(AX*1), Z18                     // b_6
	VFMADD231PS Z18, Z16, Z6                     // Z6 += a0·b_6
	VFMADD231PS Z18, Z17, Z14                    // Z14 += a1·b_6
	VMOVUPS (R13)(AX*1), Z18                     // b_7
	VFMADD231PS Z18, Z16, Z7                     // Z7 += a0·b_7
	VFMADD231PS Z18, Z17, Z15                    // Z15 += a1·b_7
	ADDQ $64, AX                                 // t += 16
	CMPQ AX, CX                                  // more whole blocks?
	JB rowdots_loop                              // then loop
rowdots_tail:
	KORTESTW K1, K1                              // a tail?
	JEQ rowdots_reduce                           // no
	VMOVUPS.Z (SI)(AX*1), K1, Z16                // the same on the tail, zeros past it
	VMOVUPS.Z (DI)(AX*1), K1, Z17
	VMOVUPS.Z (BX)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z0
	VFMADD231PS Z18, Z17, Z8
	VMOVUPS.Z (DX)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z1
	VFMADD231PS Z18, Z17, Z9
	VMOVUPS.Z (R8)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z2
	VFMADD231PS Z18, Z17, Z10
	VMOVUPS.Z (R9)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z3
	VFMADD231PS Z18, Z17, Z11
	VMOVUPS.Z (R10)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z4
	VFMADD231PS Z18, Z17, Z12
	VMOVUPS.Z (R11)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z5
	VFMADD231PS Z18, Z17, Z13
	VMOVUPS.Z (R12)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z6
	VFMADD231PS Z18, Z17, Z14
	VMOVUPS.Z (R13)(AX*1), K1, Z18
	VFMADD231PS Z18, Z16, Z7
	VFMADD231PS Z18, Z17, Z15
rowdots_reduce:
	MOVQ out+32(FP), R8                          // R8 = &out
	ROWDOT_REDUCE(Z0, 0)
	ROWDOT_REDUCE(Z1, 4)
	ROWDOT_REDUCE(Z2, 8)
	ROWDOT_REDUCE(Z3, 12)
	ROWDOT_REDUCE(Z4, 16)
	ROWDOT_REDUCE(Z5, 20)
	ROWDOT_REDUCE(Z6, 24)
	ROWDOT_REDUCE(Z7, 28)
	ROWDOT_REDUCE(Z8, 32)
	ROWDOT_REDUCE(Z9, 36)
	ROWDOT_REDUCE(Z10, 40)
	ROWDOT_REDUCE(Z11, 44)
	ROWDOT_REDUCE(Z12, 48)
	ROWDOT_REDUCE(Z13, 52)
	ROWDOT_REDUCE(Z14, 56)
	ROWDOT_REDUCE(Z15, 60)
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func transpose16AVX512(src *float32, lds int, dst *float32, ldd int)
//
// dst[j·ldd + i] = src[i·lds + j] for i, j < 16 (32-bit elements of any
// type): the rows r0–r15 in Z0–Z15, interleaved in three rounds
// (VUNPCKLPS/HPS pairs rows, VUNPCKLPD/HPD pairs of pairs, VSHUFF32X4
// 128-bit blocks twice) into the columns. After round 2, block L of
// Z(16+4i+k) holds column 4L+k of rows 4i…4i+3.
TEXT ·transpose16AVX512(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI                           // SI = &src[0]
	MOVQ lds+8(FP), AX                           // AX = lds
	SHLQ $2, AX                                  // in bytes
	MOVQ dst+16(FP), DI                          // DI = &dst[0]
	MOVQ ldd+24(FP), BX                          // BX = ldd
	SHLQ $2, BX                                  // in bytes
	LEAQ (AX)(AX*2), CX                          // CX = 3 rows of src
	LEAQ (BX)(BX*2), DX                          // DX = 3 rows of dst
	MOVQ SI, R8                                  // R8 = row 0
	VMOVUPS (R8), Z0                             // Z0 = row 0
	VMOVUPS (R8)(AX*1), Z1                       // row 1
	VMOVUPS (R8)(AX*2), Z2                       // row 2
	VMOVUPS (R8)(CX*1), Z3                       // row 3
	LEAQ (R8)(AX*4), R8                          // R8 = 4 rows on
	VMOVUPS (R8), Z4                             // Z4 = row 4
	VMOVUPS (R8)(AX*1), Z5                       // row 5
	VMOVUPS (R8)(AX*2), Z6                       // row 6
	VMOVUPS (R8)(CX*1), Z7                       // row 7
	LEAQ (R8)(AX*4), R8                          // R8 = 4 rows on
	VMOVUPS (R8), Z8                             // Z8 = row 8
	VMOVUPS (R8)(AX*1), Z9                       // row 9
	VMOVUPS (R8)(AX*2), Z10                      // row 10
	VMOVUPS (R8)(CX*1), Z11                      // row 11
	LEAQ (R8)(AX*4), R8                          // R8 = 4 rows on
	VMOVUPS (R8), Z12                            // Z12 = row 12
	VMOVUPS (R8)(AX*1), Z13                      // row 13
	VMOVUPS (R8)(AX*2), Z14                      // row 14
	VMOVUPS (R8)(CX*1), Z15                      // row 15
	VUNPCKLPS Z1, Z0, Z16                        // Z16 = rows 0,1 interleaved, low
	VUNPCKHPS Z1, Z0, Z17                        // Z17 = the same, high
	VUNPCKLPS Z3, Z2, Z18                        // Z18 = rows 2,3 interleaved, low
	VUNPCKHPS Z3, Z2, Z19                        // Z19 = the same, high
	VUNPCKLPS Z5, Z4, Z20                        // Z20 = rows 4,5 interleaved, low
	VUNPCKHPS Z5, Z4, Z21                        // Z21 = the same, high
	VUNPCKLPS Z7, Z6, Z22                        // Z22 = rows 6,7 interleaved, low
	VUNPCKHPS Z7, Z6, Z23                        // Z23 = the same, high
	VUNPCKLPS Z9, Z8, Z24                        // Z24 = rows 8,9 interleaved, low
	VUNPCKHPS Z9, Z8, Z25                        // Z25 = the same, high
	VUNPCKLPS Z11, Z10, Z26                      // Z26 = rows 10,11 interleaved, low
	VUNPCKHPS Z11, Z10, Z27                      // Z27 = the same, high
	VUNPCKLPS Z13, Z12, Z28                      // Z28 = rows 12,13 interleaved, low
	VUNPCKHPS Z13, Z12, Z29                      // Z29 = the same, high
	VUNPCKLPS Z15, Z14, Z30                      // Z30 = rows 14,15 interleaved, low
	VUNPCKHPS Z15, Z14, Z31                      // Z31 = the same, high
	VUNPCKLPD Z18, Z16, Z0                       // Z0: columns 4L of rows 0…3
	VUNPCKHPD Z18, Z16, Z1                       // Z1: columns 4L+1
	VUNPCKLPD Z19, Z17, Z2                       // Z2: columns 4L+2
	VUNPCKHPD Z19, Z17, Z3                       // Z3: columns 4L+3
	VUNPCKLPD Z22, Z20, Z4                       // Z4: columns 4L of rows 4…7
	VUNPCKHPD Z22, Z20, Z5                       // Z5: columns 4L+1
	VUNPCKLPD Z23, Z21, Z6                       // Z6: columns 4L+2
	VUNPCKHPD Z23, Z21, Z7                       // Z7: columns 4L+3
	VUNPCKLPD Z26, Z24, Z8                       // Z8: columns 4L of rows 8…11
	VUNPCKHPD Z26, Z24, Z9                       // Z9: columns 4L+1
	VUNPCKLPD Z27, Z25, Z10                      // Z10: columns 4L+2
	VUNPCKHPD Z27, Z25, Z11                      // Z11: columns 4L+3
	VUNPCKLPD Z30, Z28, Z12                      // Z12: columns 4L of rows 12…15
	VUNPCKHPD Z30, Z28, Z13                      // Z13: columns 4L+1
	VUNPCKLPD Z31, Z29, Z14                      // Z14: columns 4L+2
	VUNPCKHPD Z31, Z29, Z15                      // Z15: columns 4L+3
	VSHUFF32X4 $0x88, Z4, Z0, Z16                // blocks 0, 2 of Z0, then of Z4
	VSHUFF32X4 $0xDD, Z4, Z0, Z20                // blocks 1, 3
	VSHUFF32X4 $0x88, Z5, Z1, Z17                // blocks 0, 2 of Z1, then of Z5
	VSHUFF32X4 $0xDD, Z5, Z1, Z21                // blocks 1, 3
	VSHUFF32X4 $0x88, Z6, Z2, Z18                // blocks 0, 2 of Z2, then of Z6
	VSHUFF32X4 $0xDD, Z6, Z2, Z22                // blocks 1, 3
	VSHUFF32X4 $0x88, Z7, Z3, Z19                // blocks 0, 2 of Z3, then of Z7
	VSHUFF32X4 $0xDD, Z7, Z3, Z23                // blocks 1, 3
	VSHUFF32X4 $0x88, Z12, Z8, Z24               // blocks 0, 2 of Z8, then of Z12
	VSHUFF32X4 $0xDD, Z12, Z8, Z28               // blocks 1, 3
	VSHUFF32X4 $0x88, Z13, Z9, Z25               // blocks 0, 2 of Z9, then of Z13
	VSHUFF32X4 $0xDD, Z13, Z9, Z29               // blocks 1, 3
	VSHUFF32X4 $0x88, Z14, Z10, Z26              // blocks 0, 2 of Z10, then of Z14
	VSHUFF32X4 $0xDD, Z14, Z10, Z30              // blocks 1, 3
	VSHUFF32X4 $0x88, Z15, Z11, Z27              // blocks 0, 2 of Z11, then of Z15
	VSHUFF32X4 $0xDD, Z15, Z11, Z31              // blocks 1, 3
	VSHUFF32X4 $0x88, Z24, Z16, Z0               // Z0 = column 0
	VSHUFF32X4 $0xDD, Z24, Z16, Z8               // Z8 = column 8
	VSHUFF32X4 $0x88, Z28, Z20, Z4               // Z4 = column 4
	VSHUFF32X4 $0xDD, Z28, Z20, Z12              // Z12 = column 12
	VSHUFF32X4 $0x88, Z25, Z17, Z1               // Z1 = column 1
	VSHUFF32X4 $0xDD, Z25, Z17, Z9               // Z9 = column 9
	VSHUFF32X4 $0x88, Z29, Z21, Z5               // Z5 = column 5
	VSHUFF32X4 $0xDD, Z29, Z21, Z13              // Z13 = column 13
	VSHUFF32X4 $0x88, Z26, Z18, Z2               // Z2 = column 2
	VSHUFF32X4 $0xDD, Z26, Z18, Z10              // Z10 = column 10
	VSHUFF32X4 $0x88, Z30, Z22, Z6               // Z6 = column 6
	VSHUFF32X4 $0xDD, Z30, Z22, Z14              // Z14 = column 14
	VSHUFF32X4 $0x88, Z27, Z19, Z3               // Z3 = column 3
	VSHUFF32X4 $0xDD, Z27, Z19, Z11              // Z11 = column 11
	VSHUFF32X4 $0x88, Z31, Z23, Z7               // Z7 = column 7
	VSHUFF32X4 $0xDD, Z31, Z23, Z15              // Z15 = column 15
	MOVQ DI, R8                                  // R8 = dst row 0
	VMOVUPS Z0, (R8)                             // dst row 0
	VMOVUPS Z1, (R8)(BX*1)                       // dst row 1
	VMOVUPS Z2, (R8)(BX*2)                       // dst row 2
	VMOVUPS Z3, (R8)(DX*1)                       // dst row 3
	LEAQ (R8)(BX*4), R8                          // R8 = 4 rows on
	VMOVUPS Z4, (R8)                             // dst row 4
	VMOVUPS Z5, (R8)(BX*1)                       // dst row 5
	VMOVUPS Z6, (R8)(BX*2)                       // dst row 6
	VMOVUPS Z7, (R8)(DX*1)                       // dst row 7
	LEAQ (R8)(BX*4), R8                          // R8 = 4 rows on
	VMOVUPS Z8, (R8)                             // dst row 8
	VMOVUPS Z9, (R8)(BX*1)                       // dst row 9
	VMOVUPS Z10, (R8)(BX*2)                      // dst row 10
	VMOVUPS Z11, (R8)(DX*1)                      // dst row 11
	LEAQ (R8)(BX*4), R8                          // R8 = 4 rows on
	VMOVUPS Z12, (R8)                            // dst row 12
	VMOVUPS Z13, (R8)(BX*1)                      // dst row 13
	VMOVUPS Z14, (R8)(BX*2)                      // dst row 14
	VMOVUPS Z15, (R8)(DX*1)                      // dst row 15
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func prefetchAVX(p *float32, n int)
//
// PREFETCHT0 on every 64-byte line of the n floats at p (n ≥ 1): hints
// only, they never fault and change no value.
TEXT ·prefetchAVX(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI                             // SI = p
	MOVQ n+8(FP), CX                             // CX = n
	LEAQ -1(SI)(CX*4), CX                        // CX = the last byte
prefetch_loop:
	PREFETCHT0 (SI)                              // fetch the line of SI into all cache levels
	ADDQ $64, SI                                 // next line
	CMPQ SI, CX                                  // past the last byte?
	JBE prefetch_loop                            // no: loop
	ANDQ $-64, CX                                // the last byte's line
	PREFETCHT0 (CX)                              // (when p was not line-aligned)
	RET                                          // return

// func addRowsAVX512(rows, cols int, dst *float32, ldd int, a *float32, lda int, v *float32)
//
// dst[r·ldd + j] = a[r·lda + j] + v[j]; rows ≥ 1. SI = a row, DI = dst
// row, DX = v, AX = byte offset, BX = bytes in whole blocks, R8 = rows
// left, R9/R10 = ldd/lda in bytes; K1 = the tail's lanes.
TEXT ·addRowsAVX512(SB), NOSPLIT, $0-56
	MOVQ rows+0(FP), R8                          // R8 = rows left
	MOVQ cols+8(FP), BX                          // BX = cols
	MOVQ dst+16(FP), DI                          // DI = &dst[0]
	MOVQ ldd+24(FP), R9                          // R9 = ldd
	SHLQ $2, R9                                  // in bytes
	MOVQ a+32(FP), SI                            // SI = &a[0]
	MOVQ lda+40(FP), R10                         // R10 = lda
	SHLQ $2, R10                                 // in bytes
	MOVQ v+48(FP), DX                            // DX = &v[0]
	MOVQ BX, CX                                  // CX = cols
	ANDQ $15, CX                                 // CX = the tail
	MOVQ $1, R11                                 // R11 = 1
	SHLQ CX, R11                                 // R11 = 2^tail
	DECQ R11                                     // R11 = 2^tail − 1
	KMOVW R11, K1                                // K1 = the tail's lanes
	ANDQ $-16, BX                                // BX = cols in whole blocks
	SHLQ $2, BX                                  // in bytes
addrows_row:
	XORQ AX, AX                                  // AX = 0, byte offset in the row
	TESTQ BX, BX                                 // any whole block?
	JEQ addrows_tail                             // no: only the tail
addrows_loop:
	VMOVUPS (SI)(AX*1), Z0                       // Z0 = a
	VADDPS (DX)(AX*1), Z0, Z0                    // Z0 = a + v
	VMOVUPS Z0, (DI)(AX*1)                       // store dst
	ADDQ $64, AX                                 // j += 16
	CMPQ AX, BX                                  // more whole blocks?
	JB addrows_loop                              // then loop
addrows_tail:
	KORTESTW K1, K1                              // a tail?
	JEQ addrows_next                             // no
	VMOVUPS.Z (SI)(AX*1), K1, Z0                 // Z0 = the tail of a
	VMOVUPS.Z (DX)(AX*1), K1, Z1                 // Z1 = the tail of v
	VADDPS Z1, Z0, Z0                            // a + v
	VMOVUPS Z0, K1, (DI)(AX*1)                   // store the tail only
addrows_next:
	ADDQ R10, SI                                 // next a row
	ADDQ R9, DI                                  // next dst row
	DECQ R8                                      // rows left
	JNZ addrows_row                              // another row?
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func unpool2x2AVX512(pw int, gy, yv *float32, arg *int32, oc, rs int, c0 int32, dst *float32, sums *[16]float64)
//
// One row of pw windows of unpool2x2ReLUGo, 16 channels: gy, yv, arg point
// at the row's first window (oc elements a window), dst at column c0 of
// the product (oc elements a column, rs columns a row). Window pj (first
// column c = c0 + 2·pj) writes t = [yv > 0]·gy to the column of arg and 0
// to its three other columns, and adds t (in float64) to sums, lanes 0–7
// in Z7 and 8–15 in Z8. pw ≥ 1. Z2 = 0, Z3 = 1, Z9 = c, Z10 = rs,
// Z11 = 1, Z12 = rs+1, Z13 = 2 (as int32); R8 = a column in bytes,
// R9 = a row, R11 = two columns.
TEXT ·unpool2x2AVX512(SB), NOSPLIT, $0-72
	MOVQ pw+0(FP), CX                            // CX = windows left
	MOVQ gy+8(FP), SI                            // SI = gy of the window
	MOVQ yv+16(FP), DX                           // DX = yv of the window
	MOVQ arg+24(FP), R10                         // R10 = arg of the window
	MOVQ oc+32(FP), R8                           // R8 = oc
	SHLQ $2, R8                                  // R8 = one column (and one window) in bytes
	MOVQ rs+40(FP), R9                           // R9 = rs
	VPBROADCASTD R9, Z10                         // Z10 = rs
	IMULQ R8, R9                                 // R9 = one row in bytes
	LEAQ (R8)(R8*1), R11                         // R11 = two columns in bytes
	MOVL c0+48(FP), AX                           // AX = c0
	VPBROADCASTD AX, Z9                          // Z9 = c
	MOVL $1, AX                                  // AX = 1
	VPBROADCASTD AX, Z11                         // Z11 = 1
	VPADDD Z11, Z10, Z12                         // Z12 = rs + 1
	MOVL $2, AX                                  // AX = 2
	VPBROADCASTD AX, Z13                         // Z13 = 2
	MOVL $0x3f800000, AX                         // AX = 1.0 as float32 bits
	VPBROADCASTD AX, Z3                          // Z3 = 1.0
	VPXORD Z2, Z2, Z2                            // Z2 = 0
	MOVQ dst+56(FP), DI                          // DI = dst at column c
	MOVQ sums+64(FP), BX                         // BX = &sums
	VMOVUPD (BX), Z7                             // Z7 = sums of lanes 0–7
	VMOVUPD 64(BX), Z8                           // Z8 = sums of lanes 8–15
unpool_loop:
	VMOVUPS (DX), Z0                             // Z0 = yv
	VCMPPS $0x1e, Z2, Z0, K2                     // K2 = yv > 0 (false for NaN)
	VMOVAPS.Z Z3, K2, Z4                         // Z4 = [yv > 0]
	VMULPS (SI), Z4, Z4                          // Z4 = t = [yv > 0]·gy
	VCVTPS2PD Y4, Z5                             // lanes 0–7 in float64
	VADDPD Z5, Z7, Z7                            // add to their sums
	VEXTRACTF64X4 $1, Z4, Y6                     // lanes 8–15
	VCVTPS2PD Y6, Z6                             // in float64
	VADDPD Z6, Z8, Z8                            // add to their sums
	VMOVDQU32 (R10), Z14                         // Z14 = arg
	VPSUBD Z9, Z14, Z14                          // Z14 = off = arg − c
	LEAQ (DI)(R9*1), AX                          // AX = the window's second row
	VPCMPEQD Z2, Z14, K3                         // K3 = off == 0
	VMOVAPS.Z Z4, K3, Z5                         // t there, 0 elsewhere
	VMOVUPS Z5, (DI)                             // column c
	VPCMPEQD Z11, Z14, K3                        // K3 = off == 1
	VMOVAPS.Z Z4, K3, Z5                         // t there, 0 elsewhere
	VMOVUPS Z5, (DI)(R8*1)                       // column c+1
	VPCMPEQD Z10, Z14, K3                        // K3 = off == rs
	VMOVAPS.Z Z4, K3, Z5                         // t there, 0 elsewhere
	VMOVUPS Z5, (AX)                             // column c+rs
	VPCMPEQD Z12, Z14, K3                        // K3 = off == rs+1
	VMOVAPS.Z Z4, K3, Z5                         // t there, 0 elsewhere
	VMOVUPS Z5, (AX)(R8*1)                       // column c+rs+1
	VPADDD Z13, Z9, Z9                           // c += 2
	ADDQ R8, SI                                  // next window's gy
	ADDQ R8, DX                                  // yv
	ADDQ R8, R10                                 // arg
	ADDQ R11, DI                                 // two columns on
	DECQ CX                                      // windows left
	JNZ unpool_loop                              // another?
	VMOVUPD Z7, (BX)                             // store the sums
	VMOVUPD Z8, 64(BX)
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
