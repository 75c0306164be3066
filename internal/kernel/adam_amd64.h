// Macros shared by the two AVX-512 Adam kernels, adamAVX512
// (vec_amd64.s: the direction) and adamUpdateAVX512 (adam_update_amd64.s:
// the direction applied to θ), so that the two compute u with the same
// instructions.
//
// ADAM_COEFFS_AVX512 broadcasts the twelve coefficients that R10 points at
// (adamCoeffs[float32]: c, λ_c, β₁, 1−β₁, β₂, 1−β₂, inv₁, inv₂, ε, λ_d,
// mult, the smallest normal float32) into Z16–Z26 and Z30.
//
// ADAM_U_AVX512 runs one block of 16 elements at byte offset AX, with
// SI = m, DX = v, R8 = g, R9 = θ (the pure-Go twin is adamGo):
//
//	Z0 = ĝ = c·g + λ_c·θ,  Z1 = θ
//	m = flush(β₁·m + (1−β₁)·ĝ)          (stored)
//	v = flush(β₂·v + ((1−β₂)·ĝ)·ĝ)      (stored)
//	Z3 = u = mult·((m·inv₁)/(√v·inv₂ + ε) + λ_d·θ)
//
// FLUSH_AVX512(z) sets the lanes of z below the smallest normal float32 in
// magnitude (Z30; subnormals) to ±0 with their sign, as flushSubnormal
// does; NaN is not below anything and stays. Z2, Z4, Z5, Z6 and K1 are
// temporaries.

#define FLUSH_AVX512(z) \
	VPSLLD $1, z, Z5; \
	VPSRLD $1, Z5, Z5; \
	VCMPPS $0x11, Z30, Z5, K1; \
	VPSRLD $31, z, Z6; \
	VPSLLD $31, Z6, Z6; \
	VMOVAPS Z6, K1, z

#define ADAM_COEFFS_AVX512 \
	VBROADCASTSS 0(R10), Z16; \
	VBROADCASTSS 4(R10), Z17; \
	VBROADCASTSS 8(R10), Z18; \
	VBROADCASTSS 12(R10), Z19; \
	VBROADCASTSS 16(R10), Z20; \
	VBROADCASTSS 20(R10), Z21; \
	VBROADCASTSS 24(R10), Z22; \
	VBROADCASTSS 28(R10), Z23; \
	VBROADCASTSS 32(R10), Z24; \
	VBROADCASTSS 36(R10), Z25; \
	VBROADCASTSS 40(R10), Z26; \
	VBROADCASTSS 44(R10), Z30

#define ADAM_U_AVX512 \
	VMULPS (R8)(AX*1), Z16, Z0; \
	VMOVUPS (R9)(AX*1), Z1; \
	VMULPS Z1, Z17, Z2; \
	VADDPS Z2, Z0, Z0; \
	VMULPS (SI)(AX*1), Z18, Z3; \
	VMULPS Z0, Z19, Z2; \
	VADDPS Z2, Z3, Z3; \
	FLUSH_AVX512(Z3); \
	VMOVUPS Z3, (SI)(AX*1); \
	VMULPS (DX)(AX*1), Z20, Z4; \
	VMULPS Z0, Z21, Z2; \
	VMULPS Z0, Z2, Z2; \
	VADDPS Z2, Z4, Z4; \
	FLUSH_AVX512(Z4); \
	VMOVUPS Z4, (DX)(AX*1); \
	VSQRTPS Z4, Z4; \
	VMULPS Z4, Z23, Z4; \
	VADDPS Z4, Z24, Z4; \
	VMULPS Z3, Z22, Z3; \
	VDIVPS Z4, Z3, Z3; \
	VMULPS Z1, Z25, Z5; \
	VADDPS Z5, Z3, Z3; \
	VMULPS Z3, Z26, Z3
