// The transposing pack of a float32 GEMM operand in AVX (pack_amd64.go
// calls it where the CPU has AVX2).

//go:build amd64 && !purego

#include "textflag.h"

// func packTrans8AVX(blocks int, dst *float32, nr int, src *float32, ldb int)
//
// Transposes eight rows of B into eight columns of a packed panel, eight
// elements of each row at a time (blocks > 0 blocks of 8):
//
//	dst[p*nr + i] = src[i*ldb + p]     for i < 8, p < 8·blocks
//
// Each block loads an 8×8 tile (Y0–Y7 = rows 0–7), transposes it in three
// rounds of shuffles (pairs of rows interleaved, then pairs of pairs, then
// the 128-bit halves exchanged) and stores column q of the tile, Y8+q, as
// row p+q of dst. SI = &src[p] (rows 0–3 at SI + 0, 1, 2, 3 strides),
// R10 = SI + 4 strides (rows 4–7), R8 = ldb·4, R9 = 3·ldb·4; DI = &dst[p·nr]
// (rows 0–3 of the tile's output), R12 = DI + 4·nr·4 (rows 4–7),
// DX = nr·4, R11 = 3·nr·4; CX = blocks left.
TEXT ·packTrans8AVX(SB), NOSPLIT, $0-40
	MOVQ blocks+0(FP), CX                        // CX = blocks
	MOVQ dst+8(FP), DI                           // DI = &dst[0]
	MOVQ nr+16(FP), DX                           // DX = nr
	SHLQ $2, DX                                  // DX = nr in bytes (×4)
	LEAQ (DX)(DX*2), R11                         // R11 = 3·nr in bytes
	LEAQ (DI)(DX*4), R12                         // R12 = &dst[4·nr]
	MOVQ src+24(FP), SI                          // SI = &src[0]
	MOVQ ldb+32(FP), R8                          // R8 = ldb
	SHLQ $2, R8                                  // R8 = ldb in bytes (×4)
	LEAQ (R8)(R8*2), R9                          // R9 = 3·ldb in bytes
	LEAQ (SI)(R8*4), R10                         // R10 = &src[4·ldb]
packtrans8_loop:
	VMOVUPS (SI), Y0                             // Y0 = row 0, elements p … p+7
	VMOVUPS (SI)(R8*1), Y1                       // Y1 = row 1
	VMOVUPS (SI)(R8*2), Y2                       // Y2 = row 2
	VMOVUPS (SI)(R9*1), Y3                       // Y3 = row 3
	VMOVUPS (R10), Y4                            // Y4 = row 4
	VMOVUPS (R10)(R8*1), Y5                      // Y5 = row 5
	VMOVUPS (R10)(R8*2), Y6                      // Y6 = row 6
	VMOVUPS (R10)(R9*1), Y7                      // Y7 = row 7
	// Round 1, per 128-bit half: Y8 = r0₀ r1₀ r0₁ r1₁, Y9 = r0₂ r1₂ r0₃ r1₃, …
	VUNPCKLPS Y1, Y0, Y8                         // Y8 = rows 0,1 interleaved, low pairs
	VUNPCKHPS Y1, Y0, Y9                         // Y9 = rows 0,1 interleaved, high pairs
	VUNPCKLPS Y3, Y2, Y10                        // Y10 = rows 2,3, low pairs
	VUNPCKHPS Y3, Y2, Y11                        // Y11 = rows 2,3, high pairs
	VUNPCKLPS Y5, Y4, Y12                        // Y12 = rows 4,5, low pairs
	VUNPCKHPS Y5, Y4, Y13                        // Y13 = rows 4,5, high pairs
	VUNPCKLPS Y7, Y6, Y14                        // Y14 = rows 6,7, low pairs
	VUNPCKHPS Y7, Y6, Y15                        // Y15 = rows 6,7, high pairs
	// Round 2, per half: Y0 = column 0 (and 4) of rows 0–3, Y1 column 1 (5), …
	VSHUFPS $0x44, Y10, Y8, Y0                   // Y0 = rows 0–3 of columns 0 | 4
	VSHUFPS $0xEE, Y10, Y8, Y1                   // Y1 = rows 0–3 of columns 1 | 5
	VSHUFPS $0x44, Y11, Y9, Y2                   // Y2 = rows 0–3 of columns 2 | 6
	VSHUFPS $0xEE, Y11, Y9, Y3                   // Y3 = rows 0–3 of columns 3 | 7
	VSHUFPS $0x44, Y14, Y12, Y4                  // Y4 = rows 4–7 of columns 0 | 4
	VSHUFPS $0xEE, Y14, Y12, Y5                  // Y5 = rows 4–7 of columns 1 | 5
	VSHUFPS $0x44, Y15, Y13, Y6                  // Y6 = rows 4–7 of columns 2 | 6
	VSHUFPS $0xEE, Y15, Y13, Y7                  // Y7 = rows 4–7 of columns 3 | 7
	// Round 3: join the rows 0–3 and 4–7 halves of each column.
	VPERM2F128 $0x20, Y4, Y0, Y8                 // Y8 = column 0, rows 0–7
	VPERM2F128 $0x20, Y5, Y1, Y9                 // Y9 = column 1
	VPERM2F128 $0x20, Y6, Y2, Y10                // Y10 = column 2
	VPERM2F128 $0x20, Y7, Y3, Y11                // Y11 = column 3
	VPERM2F128 $0x31, Y4, Y0, Y12                // Y12 = column 4
	VPERM2F128 $0x31, Y5, Y1, Y13                // Y13 = column 5
	VPERM2F128 $0x31, Y6, Y2, Y14                // Y14 = column 6
	VPERM2F128 $0x31, Y7, Y3, Y15                // Y15 = column 7
	VMOVUPS Y8, (DI)                             // dst row p   = column 0
	VMOVUPS Y9, (DI)(DX*1)                       // dst row p+1 = column 1
	VMOVUPS Y10, (DI)(DX*2)                      // dst row p+2 = column 2
	VMOVUPS Y11, (DI)(R11*1)                     // dst row p+3 = column 3
	VMOVUPS Y12, (R12)                           // dst row p+4 = column 4
	VMOVUPS Y13, (R12)(DX*1)                     // dst row p+5 = column 5
	VMOVUPS Y14, (R12)(DX*2)                     // dst row p+6 = column 6
	VMOVUPS Y15, (R12)(R11*1)                    // dst row p+7 = column 7
	ADDQ $32, SI                                 // p += 8 in rows 0–3
	ADDQ $32, R10                                // p += 8 in rows 4–7
	LEAQ (DI)(DX*8), DI                          // DI = &dst[(p+8)·nr]
	LEAQ (R12)(DX*8), R12                        // R12 = &dst[(p+12)·nr]
	DECQ CX                                      // one block fewer
	JNZ packtrans8_loop                          // more blocks?
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return

// func packRows32AVX(kc, panels int, dst *float32, panelStride int, src *float32, ldb int)
//
// Deals kc rows of B out to panels micro-panels of 32 columns each
// (kc > 0, panels > 0):
//
//	dst[g*panelStride + p*32 + j] = src[p*ldb + g*32 + j]     for p < kc, g < panels, j < 32
//
// a row's 32·panels elements read front to back, 32 at a time in four Y
// registers (Y0–Y3). SI = &src[p·ldb], DI = &dst[p·32]; R8 and R9 walk
// the row and the panels; R10 = ldb·4, DX = panelStride·4; CX = rows left,
// BX = panels left in the row.
TEXT ·packRows32AVX(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX                            // CX = kc
	MOVQ dst+16(FP), DI                          // DI = &dst[0]
	MOVQ panelStride+24(FP), DX                  // DX = panelStride
	SHLQ $2, DX                                  // DX = panelStride in bytes (×4)
	MOVQ src+32(FP), SI                          // SI = &src[0]
	MOVQ ldb+40(FP), R10                         // R10 = ldb
	SHLQ $2, R10                                 // R10 = ldb in bytes (×4)
packrows_row:
	MOVQ panels+8(FP), BX                        // BX = panels
	MOVQ SI, R8                                  // R8 = &src[p·ldb]
	MOVQ DI, R9                                  // R9 = &dst[p·32] in panel 0
packrows_panel:
	VMOVUPS (R8), Y0                             // Y0 = src[p·ldb + g·32 …] elements 0–7
	VMOVUPS 32(R8), Y1                           // Y1 = elements 8–15
	VMOVUPS 64(R8), Y2                           // Y2 = elements 16–23
	VMOVUPS 96(R8), Y3                           // Y3 = elements 24–31
	VMOVUPS Y0, (R9)                             // dst[g·panelStride + p·32 …] = Y0
	VMOVUPS Y1, 32(R9)                           // … Y1
	VMOVUPS Y2, 64(R9)                           // … Y2
	VMOVUPS Y3, 96(R9)                           // … Y3
	ADDQ $128, R8                                // next 32 elements of the row
	ADDQ DX, R9                                  // next panel
	DECQ BX                                      // one panel fewer
	JNZ packrows_panel                           // more panels in this row?
	ADDQ R10, SI                                 // next row of src
	ADDQ $128, DI                                // next row of each panel
	DECQ CX                                      // one row fewer
	JNZ packrows_row                             // more rows?
	VZEROUPPER                                   // leave no dirty upper state for SSE code
	RET                                          // return
