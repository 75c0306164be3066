package data

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genopt/gen/internal/kernel"
)

// BenchmarkGatherRows copies batches of 128 rows of 784 float32 picked in
// the order of a permutation of 60 000 rows (188 MB, so each row comes
// from memory, as in an MNIST epoch), by rowCopy (which prefetches
// prefetchAhead rows ahead) and by the plain row-by-row copy; "codes"
// decodes the rows from bytes and a table of 256 values instead (47 MB,
// as MNIST's batches are filled).
//
//	go test -run NONE -bench GatherRows -benchtime 2000x ./data
func BenchmarkGatherRows(b *testing.B) {
	const n, f, m = 60000, 784, 128
	src := make([]float32, n*f)
	for i := range src {
		src[i] = float32(i)
	}
	codes, table := make([]uint8, n*f), new([256]float32)
	for i := range codes {
		codes[i] = uint8(i * 7)
	}
	for p := range table {
		table[p] = float32(p) / 255
	}
	dst := make([]float32, m*f)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	dec := kernel.NewDecoder8(table)
	b.Run("codes", func(b *testing.B) {
		k := 0
		for b.Loop() {
			idx := perm[k*m : (k+1)*m]
			if k++; (k+1)*m > n {
				k = 0
			}
			c := rowCopy{dst: dst, idx: idx, f: f, codes: codes, dec: dec}
			c.Range(0, 0, m)
		}
	})
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
