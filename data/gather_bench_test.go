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
// as MNIST's batches are filled), with 32 MB of other memory traffic
// between batches (untimed), from huge pages where Linux grants them
// (hugePageBytes) and from ordinary ones ("codes-4k").
//
//	go test -run NONE -bench GatherRows -benchtime 2000x ./data
func BenchmarkGatherRows(b *testing.B) {
	const n, f, m = 60000, 784, 128
	src := make([]float32, n*f)
	for i := range src {
		src[i] = float32(i)
	}
	codes, codes4k, table := hugePageBytes(n*f), make([]uint8, n*f), new([256]float32)
	for i := range codes {
		codes[i] = uint8(i * 7)
		codes4k[i] = codes[i]
	}
	for p := range table {
		table[p] = float32(p) / 255
	}
	dst := make([]float32, m*f)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	dec := kernel.NewDecoder8(table)
	junk := make([]float32, 8<<20)
	for _, name := range []string{"codes", "codes-4k"} {
		b.Run(name, func(b *testing.B) {
			c := rowCopy{dst: dst, f: f, codes: codes, dec: dec}
			if name == "codes-4k" {
				c.codes = codes4k
			}
			k := 0
			for b.Loop() {
				c.idx = perm[k*m : (k+1)*m]
				if k++; (k+1)*m > n {
					k = 0
				}
				c.Range(0, 0, m)
				b.StopTimer()
				for i := 0; i < len(junk); i += 16 { // 32 MB of other traffic, as a training step has
					junk[i]++
				}
				b.StartTimer()
			}
		})
	}
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
