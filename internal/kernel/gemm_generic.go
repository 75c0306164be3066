package kernel

import "unsafe"

// Block sizes of the pure-Go GEMM: a kc×nc panel of op(B) and an mc×kc block
// of op(A) are packed into contiguous buffers so that the inner loops stream
// through L1/L2-resident memory.
const (
	goMC = 64
	goKC = 256
	goNC = 512
)

// gemmGeneric is the pure-Go reference GEMM, cache-blocked. It is the
// implementation every faster kernel is tested against.
//
// Reference loop (what it computes, ignoring blocking):
//
//	for i < m, j < n: C[i,j] = beta·C[i,j] + alpha·Σ_p op(A)[i,p]·op(B)[p,j]
func gemmGeneric[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return
	}
	bufs := getGenericBuffers[T]()
	defer putGenericBuffers(bufs)
	bufA, bufB := bufs.a, bufs.b
	for jc := 0; jc < n; jc += goNC {
		nc := min(goNC, n-jc)
		for pc := 0; pc < k; pc += goKC {
			kc := min(goKC, k-pc)
			// Pack op(B)[pc:pc+kc, jc:jc+nc] row-major into bufB (kc×nc).
			pb := bufB[:kc*nc]
			for p := range kc {
				dst := pb[p*nc : p*nc+nc]
				if transB {
					for j := range nc {
						dst[j] = b[(jc+j)*ldb+pc+p]
					}
				} else {
					copy(dst, b[(pc+p)*ldb+jc:(pc+p)*ldb+jc+nc])
				}
			}
			for ic := 0; ic < m; ic += goMC {
				mc := min(goMC, m-ic)
				// Pack alpha·op(A)[ic:ic+mc, pc:pc+kc] row-major into bufA (mc×kc).
				pa := bufA[:mc*kc]
				for i := range mc {
					dst := pa[i*kc : i*kc+kc]
					if transA {
						for p := range kc {
							dst[p] = alpha * a[(pc+p)*lda+ic+i]
						}
					} else {
						src := a[(ic+i)*lda+pc : (ic+i)*lda+pc+kc]
						for p, v := range src {
							dst[p] = alpha * v
						}
					}
				}
				macroKernel(mc, nc, kc, pa, pb, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// macroKernel adds the product of the packed mc×kc block pa and the packed
// kc×nc panel pb into C (stride ldc), four rows of C at a time so that each
// loaded row of pb feeds four accumulating rows.
func macroKernel[T Float](mc, nc, kc int, pa, pb []T, c []T, ldc int) {
	i := 0
	for ; i+4 <= mc; i += 4 {
		c0 := c[(i+0)*ldc : (i+0)*ldc+nc]
		c1 := c[(i+1)*ldc : (i+1)*ldc+nc]
		c2 := c[(i+2)*ldc : (i+2)*ldc+nc]
		c3 := c[(i+3)*ldc : (i+3)*ldc+nc]
		a0 := pa[(i+0)*kc : (i+0)*kc+kc]
		a1 := pa[(i+1)*kc : (i+1)*kc+kc]
		a2 := pa[(i+2)*kc : (i+2)*kc+kc]
		a3 := pa[(i+3)*kc : (i+3)*kc+kc]
		for p := range kc {
			row := pb[p*nc : p*nc+nc]
			v0, v1, v2, v3 := a0[p], a1[p], a2[p], a3[p]
			_ = c0[len(row)-1]
			_ = c1[len(row)-1]
			_ = c2[len(row)-1]
			_ = c3[len(row)-1]
			for j, bv := range row {
				c0[j] += v0 * bv
				c1[j] += v1 * bv
				c2[j] += v2 * bv
				c3[j] += v3 * bv
			}
		}
	}
	for ; i < mc; i++ {
		ci := c[i*ldc : i*ldc+nc]
		ai := pa[i*kc : i*kc+kc]
		for p := range kc {
			v := ai[p]
			row := pb[p*nc : p*nc+nc]
			_ = ci[len(row)-1]
			for j, bv := range row {
				ci[j] += v * bv
			}
		}
	}
}

// genericBuffers are the packing buffers of gemmGeneric, recycled through a
// bounded free list per element size so that steady-state calls allocate
// nothing.
type genericBuffers[T Float] struct{ a, b []T }

var (
	genericFree32 = make(chan unsafe.Pointer, 2*maxThreads)
	genericFree64 = make(chan unsafe.Pointer, 2*maxThreads)
)

func genericFree[T Float]() chan unsafe.Pointer {
	if unsafe.Sizeof(T(0)) == 4 {
		return genericFree32
	}
	return genericFree64
}

func getGenericBuffers[T Float]() *genericBuffers[T] {
	select {
	case p := <-genericFree[T]():
		// Safe: a buffer of element size 4 (8) is only ever put back on the
		// 4-byte (8-byte) list, and all T of one size share one layout.
		return (*genericBuffers[T])(p)
	default:
		return &genericBuffers[T]{a: make([]T, goMC*goKC), b: make([]T, goKC*goNC)}
	}
}

func putGenericBuffers[T Float](b *genericBuffers[T]) {
	select {
	case genericFree[T]() <- unsafe.Pointer(b):
	default:
	}
}
