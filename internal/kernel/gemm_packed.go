package kernel

import (
	"unsafe"
)

// gemmArch describes one packed GEMM implementation: the shape of its
// micro-kernel's register tile, the cache block sizes around it, and the
// micro-kernel itself.
//
// The blocking follows BLIS (Van Zee & van de Geijn, "BLIS: A Framework for
// Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015, Fig. 2):
//
//	for jc in steps of nc over n:              B block kc×nc shared by the rows
//	  for pc in steps of kc over k:            pack op(B)[pc:, jc:] into micro-panels kc×nr
//	    for ic in steps of mc over m:          pack alpha·op(A)[ic:, pc:] into micro-panels mr×kc
//	      for jr in steps of nr over nc:       one B micro-panel, resident in L1
//	        for ir in steps of mr over mc:     A micro-panels stream from L2
//	          micro-kernel: C[ic+ir:, jc+jr:] (+)= Apanel·Bpanel
type gemmArch[T Float] struct {
	name       string
	mr, nr     int // register tile of the micro-kernel
	kc, mc, nc int // cache blocks; mc is a multiple of mr, nc of nr
	// kern computes the mr×nr tile C = A·B (accumulate false) or C += A·B
	// (accumulate true) from an mr×kc block of A with element (i,p) at
	// a[i*rsA+p*csA] and a packed micro-panel b (kc×nr); see microKernelRef
	// for the reference loop.
	kern func(kc int, a *T, rsA, csA int, b, c *T, ldc int, accumulate bool)
	// kern8, when not nil, computes 8×nr tiles with kern's summation
	// order: a block whose rows are not a multiple of mr but are of 4 ends
	// in one or two 8-row tiles (tailRows8) instead of a padded mr-row
	// tile computed into scratch — the same bits, less work.
	kern8 func(kc int, a *T, rsA, csA int, b, c *T, ldc int, accumulate bool)
	// kernB and kern8B, when not nil, are kern and kern8 reading a
	// non-transposed B in place, rows ldb elements apart, with the same
	// multiply-adds in the same order: whole panels of such a B are not
	// packed (see inPlaceB).
	kernB, kern8B func(kc int, a *T, rsA, csA int, b *T, ldb int, c *T, ldc int, accumulate bool)
}

// inPlaceB reports whether gemmSerial reads a non-transposed B with rows
// ldb elements of size elem apart in place rather than packing it: when
// the rows fall on all 64 sets of the first-level cache (a row distance
// that is not a multiple of 128 bytes; the MLP's batch, 3 136 bytes), so
// that a kc×nr panel stays in it as a packed one does. A distance such as
// 4 KiB would put every row of the panel in one set.
func inPlaceB(ldb, elem int) bool { return ldb*elem%128 != 0 }

// tailRows8 returns how many of a block's mc rows end it as 8-row tiles so
// that the rest is a multiple of mr (mc = 128, mr = 12: 8, after ten
// 12-row tiles; mc = 64: 16), or 0 when no such split exists or none is
// needed.
func tailRows8(mc, mr int) int {
	if mc%mr == 0 {
		return 0
	}
	for t := 8; t <= mc && t <= 3*8; t += 8 {
		if (mc-t)%mr == 0 {
			return t
		}
	}
	return 0
}

// microKernelRef is the pure-Go twin of every assembly micro-kernel, for a
// tile of any size mr×nr. Reference loop:
//
//	for i < mr, j < nr:
//		acc := 0; for p < kc: acc = fma(a[i*rsA+p*csA], b[p*nr+j], acc)
//		if accumulate { C[i,j] += acc } else { C[i,j] = acc }
//
// A packed micro-panel of A has rsA = 1, csA = mr; A read in place has
// rsA = lda, csA = 1 (row-major) or rsA = 1, csA = lda (transposed). Go
// rounds a*b and the sum separately where the assembly fuses them, so the
// two agree to rounding, not bit for bit.
func microKernelRef[T Float](mr, nr, kc int, a []T, rsA, csA int, b, c []T, ldc int, accumulate bool) {
	for i := range mr {
		for j := range nr {
			var acc T
			for p := range kc {
				acc += a[i*rsA+p*csA] * b[p*nr+j]
			}
			if accumulate {
				c[i*ldc+j] += acc
			} else {
				c[i*ldc+j] = acc
			}
		}
	}
}

// gemmBuffers holds one thread's packing buffers and the work item that
// hands a share of a GEMM to a pool worker. Buffers are recycled through a
// free list, so a GEMM call allocates nothing in steady state.
type gemmBuffers[T Float] struct {
	pa, pb, tile []T
	job          gemmJob[T]
	shares       latch // used when this thread hands out shares
}

// gemmFree is a bounded free list of packing buffers for one arch.
type gemmFree[T Float] struct {
	arch *gemmArch[T]
	list chan *gemmBuffers[T]
}

func newGemmFree[T Float](arch *gemmArch[T]) *gemmFree[T] {
	return &gemmFree[T]{arch: arch, list: make(chan *gemmBuffers[T], 2*maxThreads)}
}

func (f *gemmFree[T]) get() *gemmBuffers[T] {
	select {
	case buf := <-f.list:
		return buf
	default:
	}
	ar := f.arch
	return &gemmBuffers[T]{
		pa:   make([]T, ar.mc*ar.kc),
		pb:   make([]T, ar.kc*ar.nc),
		tile: make([]T, ar.mr*ar.nr),
	}
}

func (f *gemmFree[T]) put(buf *gemmBuffers[T]) {
	select {
	case f.list <- buf:
	default:
	}
}

// gemmPacked computes C = alpha·op(A)·op(B) + beta·C with arch's
// micro-kernel on up to threads goroutines (the caller and pool workers).
// Sizes are already checked and m, n > 0. The work is split only when the
// product has at least minFlops floating-point operations.
//
// The split is along n (columns of C and op(B)) when m ≤ n, else along m,
// at multiples of the register tile, so each thread packs a disjoint part of
// the larger operand and only the smaller one is packed by every thread.
// Every element of C is computed by the same micro-kernel with the same
// k-blocking whatever the split, so the result is bit-for-bit identical for
// every thread count.
func gemmPacked[T Float](free *gemmFree[T], threads int, minFlops float64, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	gemmPackedBias(free, threads, minFlops, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// gemmPackedBias is gemmPacked that, when bias is not nil (n elements,
// beta 0), computes C = alpha·op(A)·op(B) + 1·biasᵀ: gemmSerial writes the
// bias into each block of C just before the first micro-kernels add to it.
func gemmPackedBias[T Float](free *gemmFree[T], threads int, minFlops float64, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, bias []T) {
	if bias != nil && (k == 0 || alpha == 0) {
		fillRows(m, n, bias, c, ldc)
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if beta != 0 && beta != 1 {
		scaleC(m, n, beta, c, ldc)
		beta = 1
	}
	ar := free.arch
	parts := 1
	splitN := m <= n
	if threads > 1 && 2*float64(m)*float64(n)*float64(k) >= minFlops {
		tiles := (m + ar.mr - 1) / ar.mr
		if splitN {
			tiles = (n + ar.nr - 1) / ar.nr
		}
		parts = min(threads, tiles)
	}
	if parts == 1 {
		buf := free.get()
		gemmSerial(ar, buf, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
		free.put(buf)
		return
	}
	// Deal the tiles out in contiguous runs, the first runs one tile longer.
	step, total := ar.mr, m
	if splitN {
		step, total = ar.nr, n
	}
	tiles := (total + step - 1) / step
	var bufs [maxThreads]*gemmBuffers[T]
	bufs[0] = free.get()
	shares := &bufs[0].shares // in the pooled buffer, so that it does not escape to a fresh allocation
	start := 0
	for t := range parts {
		cnt := tiles / parts
		if t < tiles%parts {
			cnt++
		}
		lo, hi := start*step, min((start+cnt)*step, total)
		start += cnt
		if t > 0 {
			bufs[t] = free.get()
		}
		buf := bufs[t]
		j := &buf.job
		*j = gemmJob[T]{arch: ar, buf: buf, shares: shares, transA: transA, transB: transB, m: m, n: n, k: k,
			alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, bias: bias}
		if splitN {
			j.n = hi - lo
			j.c = c[lo:]
			if bias != nil {
				j.bias = bias[lo:hi]
			}
			if transB {
				j.b = b[lo*ldb:]
			} else {
				j.b = b[lo:]
			}
		} else {
			j.m = hi - lo
			j.c = c[lo*ldc:]
			if transA {
				j.a = a[lo:]
			} else {
				j.a = a[lo*lda:]
			}
		}
		if t > 0 {
			shares.add(1)
			submit(j, parts-1)
		}
	}
	bufs[0].job.shares = nil // the caller's own share: nothing to signal
	bufs[0].job.run()
	shares.wait()
	for t := range parts {
		bufs[t].job = gemmJob[T]{} // drop references to the caller's slices
		free.put(bufs[t])
	}
}

// gemmJob is one thread's share of a GEMM.
type gemmJob[T Float] struct {
	arch           *gemmArch[T]
	buf            *gemmBuffers[T]
	shares         *latch
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a, b, c        []T
	lda, ldb, ldc  int
	bias           []T // nil, or the n elements added to every row of C
}

func (j *gemmJob[T]) run() {
	gemmSerial(j.arch, j.buf, j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc, j.bias)
	if j.shares != nil {
		j.shares.done()
	}
}

// gemmSerial runs the BLIS loop nest of gemmArch on one thread; beta is 0 or
// 1. A bias (beta 0) is written into each mc×nc block of C, where it stays
// in cache for the micro-kernels that then add the first k-block to it.
func gemmSerial[T Float](ar *gemmArch[T], buf *gemmBuffers[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, bias []T) {
	mr, nr := ar.mr, ar.nr
	direct := alpha == 1
	inB := !transB && ar.kernB != nil && (ar.kern8 == nil || ar.kern8B != nil) && inPlaceB(ldb, int(unsafe.Sizeof(alpha)))
	for jc := 0; jc < n; jc += ar.nc {
		nc := min(ar.nc, n-jc)
		for pc := 0; pc < k; pc += ar.kc {
			kc := min(ar.kc, k-pc)
			accumulate := pc > 0 || beta == 1 || bias != nil
			// With kernB, B's whole panels are read where they lie and
			// only a partial last panel is packed (at its usual place).
			wholeB := 0
			if inB {
				if wholeB = nc - nc%nr; wholeB < nc {
					packBRows(buf.pb[wholeB*kc:], nr, kc, nc-wholeB, b, ldb, pc, jc+wholeB)
				}
			} else {
				packB(buf.pb, nr, kc, nc, transB, b, ldb, pc, jc)
			}
			for ic := 0; ic < m; ic += ar.mc {
				mc := min(ar.mc, m-ic)
				if bias != nil && pc == 0 {
					fillRows(mc, nc, bias[jc:jc+nc], c[ic*ldc+jc:], ldc)
				}
				// With alpha = 1 the kernel reads whole micro-panels of A
				// in place; only a partial one at the edge is packed (with
				// zero rows). Otherwise every micro-panel is packed, scaled.
				full := mc - mc%mr
				if !direct {
					full = 0
				}
				// With A read in place, the last tail8 rows may run as
				// 8-row tiles (kern8) instead of one padded mr-row tile.
				tail8 := 0
				if direct && ar.kern8 != nil {
					if tail8 = tailRows8(mc, mr); tail8 > 0 {
						full = mc
					}
				}
				if full < mc {
					packA(buf.pa[full*kc:], mr, mc-full, kc, transA, alpha, a, lda, ic+full, pc)
				}
				for jr := 0; jr < nc; jr += nr {
					nrr := min(nr, nc-jr)
					pb := &buf.pb[jr*kc]
					// B's panel in place (kernB): b[(pc+p)*ldb + jc+jr + j].
					var bIn *T
					if jr < wholeB {
						_ = b[(pc+kc-1)*ldb+jc+jr+nr-1]
						bIn = &b[pc*ldb+jc+jr]
					}
					kern, kernB := ar.kern, ar.kernB
					for ir, rows := 0, mr; ir < mc; ir += rows {
						if tail8 > 0 && ir >= mc-tail8 {
							kern, kernB, rows = ar.kern8, ar.kern8B, 8
						}
						mrr := min(rows, mc-ir)
						var pa *T
						rsA, csA := 1, mr
						switch {
						case ir >= full:
							pa = &buf.pa[ir*kc]
						case transA:
							// op(A)[i,p] = a[(pc+p)*lda + ic+ir+i]
							_ = a[(pc+kc-1)*lda+ic+ir+rows-1]
							pa, rsA, csA = &a[pc*lda+ic+ir], 1, lda
						default:
							// op(A)[i,p] = a[(ic+ir+i)*lda + pc+p]
							_ = a[(ic+ir+rows-1)*lda+pc+kc-1]
							pa, rsA, csA = &a[(ic+ir)*lda+pc], lda, 1
						}
						off := (ic+ir)*ldc + jc + jr
						if mrr == rows && nrr == nr {
							_ = c[off+(rows-1)*ldc+nr-1] // the whole tile lies inside c
							if bIn != nil {
								kernB(kc, pa, rsA, csA, bIn, ldb, &c[off], ldc, accumulate)
							} else {
								kern(kc, pa, rsA, csA, pb, &c[off], ldc, accumulate)
							}
							continue
						}
						// Edge tile: compute the full tile into scratch and
						// copy out the part that lies inside C.
						if bIn != nil {
							kernB(kc, pa, rsA, csA, bIn, ldb, &buf.tile[0], nr, false)
						} else {
							kern(kc, pa, rsA, csA, pb, &buf.tile[0], nr, false)
						}
						for i := range mrr {
							dst := c[off+i*ldc : off+i*ldc+nrr]
							src := buf.tile[i*nr : i*nr+nrr]
							if accumulate {
								for j, v := range src {
									dst[j] += v
								}
							} else {
								copy(dst, src)
							}
						}
					}
				}
			}
		}
	}
}

// packA packs alpha·op(A)[ic:ic+mc, pc:pc+kc] into micro-panels of mr rows:
// pa[ir*kc + p*mr + i] = alpha·op(A)[ic+ir+i, pc+p], rows past mc zeroed.
// The micro-kernel then reads a panel with rsA = 1, csA = mr.
func packA[T Float](pa []T, mr, mc, kc int, transA bool, alpha T, a []T, lda, ic, pc int) {
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		dst := pa[ir*kc : ir*kc+kc*mr]
		if rows < mr {
			clear(dst)
		}
		if transA {
			// op(A)[i,p] = a[p*lda+i]: each p is a contiguous run of rows.
			for p := range kc {
				src := a[(pc+p)*lda+ic+ir:][:rows]
				d := dst[p*mr:][:rows]
				if alpha == 1 {
					copy(d, src)
				} else {
					for i, v := range src {
						d[i] = alpha * v
					}
				}
			}
			continue
		}
		// op(A)[i,p] = a[i*lda+p]: read each row contiguously, write strided.
		for i := range rows {
			src := a[(ic+ir+i)*lda+pc:][:kc]
			if alpha == 1 {
				for p, v := range src {
					dst[p*mr+i] = v
				}
			} else {
				for p, v := range src {
					dst[p*mr+i] = alpha * v
				}
			}
		}
	}
}

// packB packs op(B)[pc:pc+kc, jc:jc+nc] into micro-panels of nr columns:
// pb[jr*kc + p*nr + j] = op(B)[pc+p, jc+jr+j], columns past nc zeroed.
func packB[T Float](pb []T, nr, kc, nc int, transB bool, b []T, ldb, pc, jc int) {
	if !transB {
		packBRows(pb, nr, kc, nc, b, ldb, pc, jc)
		return
	}
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		dst := pb[jr*kc : jr*kc+kc*nr]
		if cols < nr {
			clear(dst)
		}
		// op(B)[p,j] = b[j*ldb+p]: a transpose. Eight rows of B are
		// read side by side, so that each p writes eight adjacent
		// elements (1.7× faster than one row at a time for a 256×256
		// block); the rest one row at a time.
		j := 0
		for ; j+8 <= cols; j += 8 {
			r := (jc+jr+j)*ldb + pc
			p0 := 0
			if unsafe.Sizeof(T(0)) == 4 {
				p0 = packTrans8(asF32(dst[j:]), nr, kc, asF32(b), r, ldb) // 8×8 tiles in assembly
			}
			s0, s1 := b[r:][:kc], b[r+ldb:][:kc]
			s2, s3 := b[r+2*ldb:][:kc], b[r+3*ldb:][:kc]
			s4, s5 := b[r+4*ldb:][:kc], b[r+5*ldb:][:kc]
			s6, s7 := b[r+6*ldb:][:kc], b[r+7*ldb:][:kc]
			for p := p0; p < kc; p++ {
				d := dst[p*nr+j:][:8]
				d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
				d[4], d[5], d[6], d[7] = s4[p], s5[p], s6[p], s7[p]
			}
		}
		for ; j < cols; j++ {
			src := b[(jc+jr+j)*ldb+pc:][:kc]
			for p, v := range src {
				dst[p*nr+j] = v
			}
		}
	}
}

// packBRows is packB for B not transposed, op(B)[p,j] = b[p*ldb+j]. It
// reads each row of the block once, front to back, and deals it out to the
// whole panels, so that the hardware prefetcher streams B (a column strip
// of 32 elements at a time, over rows far apart, made the loads wait on
// memory: 8 % of a GPT training step); then the partial panel at the edge.
func packBRows[T Float](pb []T, nr, kc, nc int, b []T, ldb, pc, jc int) {
	if nc == nr && ldb == nr {
		// B is one panel wide: its rows are the packed panel already.
		copy(pb, b[pc*ldb:][:kc*nr])
		return
	}
	full := nc - nc%nr
	if unsafe.Sizeof(T(0)) != 4 || !packRows32(asF32(pb), nr, kc, full, asF32(b), pc*ldb+jc, ldb) {
		for p := range kc {
			src := b[(pc+p)*ldb+jc:][:full]
			for jr := 0; jr < full; jr += nr {
				copy(pb[jr*kc+p*nr:][:nr], src[jr:jr+nr])
			}
		}
	}
	if full == nc {
		return
	}
	cols := nc - full
	dst := pb[full*kc : full*kc+kc*nr]
	clear(dst)
	for p := range kc {
		copy(dst[p*nr:p*nr+cols], b[(pc+p)*ldb+jc+full:][:cols])
	}
}

// asF32 and asF64 view a slice of a type with underlying float32 or float64
// as the underlying type, so that named float types reach the assembly.
func asF32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func asF64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
