//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

//go:noescape
func packTrans8AVX(blocks int, dst *float32, nr int, src *float32, ldb int)

//go:noescape
func packRows32AVX(kc, panels int, dst *float32, panelStride int, src *float32, ldb int)

// packHasAVX2 reports whether packTrans8 and packRows32 run the assembly transpose; a
// variable so that tests can turn it off.
var packHasAVX2 = cpu.X86.HasAVX2

// packTrans8 transposes the leading whole blocks of 8 of kc elements of
// eight rows of B into eight adjacent columns of a packed panel,
//
//	dst[p*nr + i] = b[r + i*ldb + p]     for i < 8, p < done
//
// and returns done = kc rounded down to a multiple of 8 (0 where the CPU
// lacks AVX2), leaving the rest to packB's loop. It moves the same bits as
// that loop, an 8×8 tile in 24 shuffles instead of 64 scalar loads and
// stores (in a GPT training step packB's transposes cost 5 %).
func packTrans8(dst []float32, nr, kc int, b []float32, r, ldb int) (done int) {
	blocks := kc / 8
	if !packHasAVX2 || blocks == 0 {
		return 0
	}
	done = 8 * blocks
	_ = dst[(done-1)*nr+7] // the last element written lies inside dst
	_ = b[r+7*ldb+done-1]  // the last element read lies inside b
	packTrans8AVX(blocks, &dst[0], nr, &b[r], ldb)
	return done
}

// packRows32 is packBRows's loop over whole panels for float32 and nr = 32
// where the CPU has AVX2,
//
//	pb[jr*kc + p*32 + j] = b[r + p*ldb + jr + j]     for p < kc, jr < full (a multiple of 32), j < 32
//
// 32 elements in four moves instead of a call to memmove each (about
// 160 000 of them in a GPT training step). It reports false, having done
// nothing, where it does not apply.
func packRows32(pb []float32, nr, kc, full int, b []float32, r, ldb int) bool {
	if !packHasAVX2 || nr != 32 || kc == 0 || full == 0 {
		return false
	}
	_ = pb[(full/32-1)*kc*32+kc*32-1] // the last panel lies inside pb
	_ = b[r+(kc-1)*ldb+full-1]        // the last element read lies inside b
	packRows32AVX(kc, full/32, &pb[0], kc*32, &b[r], ldb)
	return true
}
