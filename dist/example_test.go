package dist_test

import (
	"fmt"
	"sync"

	"github.com/genopt/gen/dist"
)

// Two ranks of an in-process group average their gradients the way the
// trainer does: each scales its shard's mean by its example count, the
// all-reduce sums, and every rank divides by the total count.
func ExampleNewGroup() {
	shards := [][]float64{{1, 2, 3}, {5, 6}} // per-example values of each rank's shard
	out := make([]float64, 2)
	var wg sync.WaitGroup
	for r, c := range dist.NewGroup(2, dist.Options{}) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mean := 0.0
			for _, v := range shards[r] {
				mean += v / float64(len(shards[r]))
			}
			buf := []float64{float64(len(shards[r])) * mean, float64(len(shards[r]))}
			if err := dist.Sum(c, buf); err != nil {
				panic(err)
			}
			out[r] = buf[0] / buf[1]
		}()
	}
	wg.Wait()
	fmt.Printf("rank 0: %.4g, rank 1: %.4g (the mean of all five values is 3.4)\n", out[0], out[1])
	// Output: rank 0: 3.4, rank 1: 3.4 (the mean of all five values is 3.4)
}
