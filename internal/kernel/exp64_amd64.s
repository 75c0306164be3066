//go:build amd64 && !purego

#include "textflag.h"

// func exp64AVX512(n int, dst, x *float64, k *[16]float64) int
//
// dst[i] = exp(x[i]) on blocks of eight (n a positive multiple of 8), AVX-512F
// with FMA, stopping at the first block with a lane outside [−708, 709] or
// NaN; returns the number of elements written. Per lane, the operations of
// the FMA path of math.Exp's assembly (math/exp_amd64.s) in its order, so
// the results are its bits (the reference is math.Exp itself):
//
//	k  = round(x·log₂e)                  (int32, round to nearest even)
//	r  = x − k·ln2u − k·ln2l             (two fused multiply-subtracts)
//	r  = r·(1/16)
//	p  = ((((((c8·r + c7)·r + c6)·r + c5)·r + c4)·r + c3)·r + ½)·r + 1   (fused)
//	r  = r·p;  three times: r = r·(r + 2);  then r = r·(r + 2) + 1 (fused)
//	exp = r·2^k                          (k + 1023 shifted into the exponent)
//
// Registers: Z16–Z31 hold k's sixteen constants broadcast (log₂e, ln2u,
// ln2l, 1/16, c8 … c3, ½, 1, 2, −708, 709, the integer 1023); Z0 = x then
// r, Z1 = x·log₂e, k and p, Y3 = k as int32, Z4 = 2^k; K1/K2 the range
// tests; SI = x, DI = dst, AX = index, CX = n.
TEXT ·exp64AVX512(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX                             // CX = n
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ x+16(FP), SI                            // SI = &x[0]
	MOVQ k+24(FP), R10                           // R10 = &k[0]
	VBROADCASTSD 0(R10), Z16                     // Z16 = log₂e
	VBROADCASTSD 8(R10), Z17                     // Z17 = ln2, upper part
	VBROADCASTSD 16(R10), Z18                    // Z18 = ln2, lower part
	VBROADCASTSD 24(R10), Z19                    // Z19 = 1/16
	VBROADCASTSD 32(R10), Z20                    // Z20 = 1/8!
	VBROADCASTSD 40(R10), Z21                    // Z21 = 1/7!
	VBROADCASTSD 48(R10), Z22                    // Z22 = 1/6!
	VBROADCASTSD 56(R10), Z23                    // Z23 = 1/5!
	VBROADCASTSD 64(R10), Z24                    // Z24 = 1/4!
	VBROADCASTSD 72(R10), Z25                    // Z25 = 1/3!
	VBROADCASTSD 80(R10), Z26                    // Z26 = ½
	VBROADCASTSD 88(R10), Z27                    // Z27 = 1
	VBROADCASTSD 96(R10), Z28                    // Z28 = 2
	VBROADCASTSD 104(R10), Z29                   // Z29 = −708
	VBROADCASTSD 112(R10), Z30                   // Z30 = 709
	VPBROADCASTQ 120(R10), Z31                   // Z31 = the integer 1023 in every 64-bit lane
	XORQ AX, AX                                  // AX = 0
exp64_loop:
	VMOVUPD (SI)(AX*8), Z0                       // Z0 = x[i : i+8]
	VCMPPD $0x1d, Z29, Z0, K1                    // K1 = lanes with x ≥ −708 (false for NaN)
	VCMPPD $0x12, Z30, Z0, K1, K2                // K2 = those with x ≤ 709 too
	KMOVW K2, BX                                 // BX = the lanes in range
	CMPL BX, $0xff                               // all eight?
	JNE exp64_done                               // no: leave this block to math.Exp
	VMULPD Z16, Z0, Z1                           // Z1 = x·log₂e
	VCVTPD2DQ Z1, Y3                             // Y3 = k = round(x·log₂e) (nearest even)
	VCVTDQ2PD Y3, Z1                             // Z1 = float64(k)
	VFNMADD231PD Z17, Z1, Z0                     // Z0 = x − k·ln2u (fused)
	VFNMADD231PD Z18, Z1, Z0                     // Z0 = r = (x − k·ln2u) − k·ln2l (fused)
	VMULPD Z19, Z0, Z0                           // Z0 = r/16
	VMOVAPD Z20, Z1                              // Z1 = p = 1/8!
	VFMADD213PD Z21, Z0, Z1                      // p = p·r + 1/7!
	VFMADD213PD Z22, Z0, Z1                      // p = p·r + 1/6!
	VFMADD213PD Z23, Z0, Z1                      // p = p·r + 1/5!
	VFMADD213PD Z24, Z0, Z1                      // p = p·r + 1/4!
	VFMADD213PD Z25, Z0, Z1                      // p = p·r + 1/3!
	VFMADD213PD Z26, Z0, Z1                      // p = p·r + ½
	VFMADD213PD Z27, Z0, Z1                      // p = p·r + 1
	VMULPD Z1, Z0, Z0                            // Z0 = r·p
	VADDPD Z28, Z0, Z1                           // Z1 = r + 2
	VMULPD Z1, Z0, Z0                            // Z0 = r·(r + 2)
	VADDPD Z28, Z0, Z1                           // Z1 = r + 2
	VMULPD Z1, Z0, Z0                            // Z0 = r·(r + 2)
	VADDPD Z28, Z0, Z1                           // Z1 = r + 2
	VMULPD Z1, Z0, Z0                            // Z0 = r·(r + 2)
	VADDPD Z28, Z0, Z1                           // Z1 = r + 2
	VFMADD213PD Z27, Z1, Z0                      // Z0 = r·(r + 2) + 1 (fused)
	VPMOVSXDQ Y3, Z4                             // Z4 = k as int64
	VPADDQ Z31, Z4, Z4                           // Z4 = k + 1023
	VPSLLQ $52, Z4, Z4                           // Z4 = 2^k (the biased exponent in place)
	VMULPD Z4, Z0, Z0                            // Z0 = r·2^k
	VMOVUPD Z0, (DI)(AX*8)                       // store dst[i : i+8]
	ADDQ $8, AX                                  // i += 8
	CMPQ AX, CX                                  // more blocks?
	JB exp64_loop                                // then loop
exp64_done:
	MOVQ AX, ret+32(FP)                          // the elements written
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
