package data

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGatherRows copies batches of 128 rows of 784 float32 picked in
// the order of a permutation of 60 000 rows (188 MB, so each row comes
// from memory, as in an MNIST epoch), by rowCopy (which prefetches
// prefetchAhead rows ahead) and by the plain row-by-row copy.
//
//	go test -run NONE -bench GatherRows -benchtime 2000x ./data
func BenchmarkGatherRows(b *testing.B) {
	const n, f, m = 60000, 784, 128
	src := make([]float32, n*f)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, m*f)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for _, prefetch := range []bool{false, true} {
		b.Run(fmt.Sprint("prefetch=", prefetch), func(b *testing.B) {
			k := 0
			for b.Loop() {
				idx := perm[k*m : (k+1)*m]
				if k++; (k+1)*m > n {
					k = 0
				}
				if prefetch {
					c := rowCopy{dst: dst, src: src, idx: idx, f: f}
					c.Range(0, 0, m)
					continue
				}
				for j, i := range idx {
					copy(dst[j*f:(j+1)*f], src[i*f:(i+1)*f])
				}
			}
		})
	}
}
