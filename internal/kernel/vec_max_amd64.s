// The float32 maximum of Max32 in AVX-512 (vec_max_amd64.go calls it
// where the CPU has AVX-512F).

//go:build amd64 && !purego

#include "textflag.h"

// func maxAVX512(n int, x *float32) float32
//
// max_j x_j over n > 0 elements, NaN if any is NaN: 16 lanes of running
// maxima (Z0, starting at −Inf), the last partial block loaded under a
// mask with the other lanes left at −Inf, then the 16 lanes folded in
// halves. VMAXPS drops a NaN operand, so NaNs are counted apart: K3
// collects the lanes that held one. SI = &x[i], CX = elements left,
// K1 = the partial block's lanes, K2 = this block's NaN lanes.
TEXT ·maxAVX512(SB), NOSPLIT, $0-20
	MOVQ n+0(FP), CX                             // CX = n
	MOVQ x+8(FP), SI                             // SI = &x[0]
	MOVL $0xff800000, AX                         // AX = −Inf as float32 bits
	VPBROADCASTD AX, Z0                          // Z0 = −Inf in every lane
	KXORW K3, K3, K3                             // K3 = no NaN seen
	CMPQ CX, $16                                 // a whole block left?
	JB max512_tail                               // no: the partial block
max512_loop:
	VMOVUPS (SI), Z1                             // Z1 = x[i : i+16]
	VCMPPS $3, Z1, Z1, K2                        // K2 = lanes where x is NaN (unordered)
	KORW K2, K3, K3                              // K3 |= K2
	VMAXPS Z1, Z0, Z0                            // Z0 = max(Z0, x)
	ADDQ $64, SI                                 // i += 16
	SUBQ $16, CX                                 // 16 elements fewer
	CMPQ CX, $16                                 // another whole block?
	JAE max512_loop                              // then loop
max512_tail:
	TESTQ CX, CX                                 // any elements left?
	JZ max512_fold                               // no: fold the lanes
	MOVL $1, AX                                  // AX = 1
	SHLL CX, AX                                  // AX = 1 << left
	DECL AX                                      // AX = the low `left` bits set
	KMOVW AX, K1                                 // K1 = the partial block's lanes
	VMOVAPS Z0, Z1                               // Z1 = −Inf where nothing is loaded (Z0 ≥ −Inf anyway)
	VMOVUPS (SI), K1, Z1                         // Z1[lanes of K1] = x[i …], faults suppressed past n
	VCMPPS $3, Z1, Z1, K2                        // K2 = lanes where x is NaN
	KORW K2, K3, K3                              // K3 |= K2
	VMAXPS Z1, Z0, Z0                            // Z0 = max(Z0, x)
max512_fold:
	VEXTRACTF64X4 $1, Z0, Y1                     // Y1 = lanes 8–15
	VMAXPS Y1, Y0, Y0                            // Y0 = max of the halves (8 lanes)
	VEXTRACTF128 $1, Y0, X1                      // X1 = lanes 4–7
	VMAXPS X1, X0, X0                            // X0 = 4 lanes
	VPERMILPS $0x4e, X0, X1                      // X1 = lanes 2, 3, 0, 1
	VMAXPS X1, X0, X0                            // X0 = 2 lanes (twice)
	VPERMILPS $0xb1, X0, X1                      // X1 = lanes 1, 0, 3, 2
	VMAXPS X1, X0, X0                            // X0 lane 0 = the maximum
	KORTESTW K3, K3                              // any NaN?
	JZ max512_done                               // no: the maximum stands
	MOVL $0x7fc00000, AX                         // AX = a quiet NaN's bits
	VMOVD AX, X0                                 // X0 = NaN
max512_done:
	VMOVSS X0, ret+16(FP)                        // return X0's lane 0
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
