package kernel

import (
	"fmt"
	"unsafe"
)

// AdamUpdate advances Adam's moments by one step and applies the update to
// θ in the same pass, without storing the direction: for every i, with u
// the value AdamDirection would write,
//
//	θ ← θ + α·u
//
// (α is the negated learning rate: the caller's θ ← θ − lr·u passes
// α = −lr). The results — m, v and θ — are the bits of AdamDirection into a
// buffer u followed by Axpy(α, u, θ): the same operations in the same order,
// the product α·u rounded before the sum. It is for a learning rate known
// before the step (a schedule, a lazy GeN step); a step that needs u, such
// as one GeN probes, calls AdamDirection. The four slices have one length; m and v must not overlap
// g or θ.
//
// For float32 on amd64 with AVX-512 the loop runs in assembly
// (adamUpdateAVX512): the update costs little next to the step's square
// roots and divisions, and the second pass — reading θ and u, writing θ —
// is gone. Elsewhere AdamDirection and Axpy run on blocks of
// adamUpdateChunk elements through a buffer that stays in cache.
func AdamUpdate[T Float](m, v, g, theta []T, s AdamStep, alpha T) {
	checkLen("AdamUpdate", len(m), len(g))
	checkLen("AdamUpdate", len(v), len(g))
	checkLen("AdamUpdate", len(theta), len(g))
	if s.T < 1 {
		panic(fmt.Sprintf("kernel: AdamUpdate: step T = %d, want ≥ 1", s.T))
	}
	k := newAdamCoeffs[T](s)
	if splitAdam(adamJob[T]{m: m, v: v, g: g, theta: theta, k: k, alpha: alpha}) {
		return
	}
	adamUpdateRun(m, v, g, theta, &k, alpha)
}

// adamUpdateChunk is the block of AdamUpdate's fallback: AdamDirection
// writes a block's direction into a buffer of this many elements (4 or 8
// KB, in the first-level cache) and Axpy applies it. A multiple of
// adamBlock, so that the blocks of a split call fall on the same elements.
const adamUpdateChunk = 1024

// adamUpdateRun is AdamUpdate's loop on one thread: the fused vector kernel
// on the longest prefix of whole vectors where there is one, then the
// direction and the update block by block.
func adamUpdateRun[T Float](m, v, g, theta []T, k *adamCoeffs[T], alpha T) {
	done := 0
	if unsafe.Sizeof(alpha) == 4 {
		done = adamUpdate32(asF32(m), asF32(v), asF32(g), asF32(theta), (*adamCoeffs[float32])(unsafe.Pointer(k)), float32(alpha))
	}
	var buf [adamUpdateChunk]T
	for lo := done; lo < len(theta); lo += adamUpdateChunk {
		hi := min(lo+adamUpdateChunk, len(theta))
		u := buf[:hi-lo]
		adamRun(u, m[lo:hi], v[lo:hi], g[lo:hi], theta[lo:hi], k)
		Axpy(alpha, u, theta[lo:hi])
	}
}

// adamUpdateGo is the reference loop of AdamUpdate, the pure-Go twin of
// adamUpdateAVX512: adamGo's direction, then θ += α·u; the slices have one
// length.
func adamUpdateGo[T Float](m, v, g, theta []T, k *adamCoeffs[T], alpha T) {
	var u [1]T
	for j := range theta {
		adamGo(u[:], m[j:j+1], v[j:j+1], g[j:j+1], theta[j:j+1], k)
		theta[j] += alpha * u[0]
	}
}
