package train

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genopt/gen/data"
	"github.com/genopt/gen/dist"
)

// rankOf is a stand-in communicator that reports a rank and a size; its
// collectives are Local's (the tests here call none).
type rankOf struct {
	dist.Local
	rank, size int
}

func (c rankOf) Rank() int { return c.rank }
func (c rankOf) Size() int { return c.size }

// TestSpan: the shards of every batch size cover its rows once, in order,
// and differ in size by at most one.
func TestSpan(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for size := 1; size <= n; size++ {
			next := 0
			for r := range size {
				lo, hi := span(n, r, size)
				if lo != next || hi < lo || hi-lo < n/size || hi-lo > n/size+1 {
					t.Fatalf("span(%d, %d, %d) = [%d, %d), after the previous shard ended at %d", n, r, size, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("the %d shards of %d rows end at %d", size, n, next)
			}
		}
	}
}

// TestReseed: the dropout streams of a step differ across ranks, between
// the training and probe tapes and from step to step, and are the same
// every time the same (rank, step) is drawn.
func TestReseed(t *testing.T) {
	draw := func(rank, step int) (train, probe uint64) {
		r := &runner[float32]{cfg: Config{Seed: 9}, comm: rankOf{rank: rank, size: 2},
			trainPCG: rand.NewPCG(0, 0), probePCG: rand.NewPCG(0, 0)}
		r.st.Step = step
		r.reseed()
		return r.trainPCG.Uint64(), r.probePCG.Uint64()
	}
	seen := map[uint64]string{}
	for rank := range 2 {
		for step := range 3 {
			tr, pr := draw(rank, step)
			if tr2, pr2 := draw(rank, step); tr2 != tr || pr2 != pr {
				t.Fatalf("rank %d, step %d: the streams are not reproducible", rank, step)
			}
			for _, v := range []struct {
				x    uint64
				what string
			}{{tr, "train"}, {pr, "probe"}} {
				key := fmt.Sprintf("%s stream of rank %d, step %d", v.what, rank, step)
				if prev, ok := seen[v.x]; ok {
					t.Fatalf("%s draws the same first value as %s", key, prev)
				}
				seen[v.x] = key
			}
		}
	}
}

// TestCheckShards: a batch too small to give every rank an example is
// refused before the run starts, with the batch sizes in the message.
func TestCheckShards(t *testing.T) {
	set := &data.Set{Name: "toy", X: make([]float32, 10), Shape: []int{1}, Labels: make([]int, 10), Classes: 2}
	for _, tc := range []struct {
		batch, ranks int
		ok           bool
	}{{4, 2, true}, {5, 2, true}, {4, 3, false}, {3, 3, false}, {10, 3, true}, {1, 2, false}} {
		r := &runner[float32]{cfg: Config{Batch: tc.batch}, comm: rankOf{size: tc.ranks}, split: data.Split{Train: set}}
		err := r.checkShards()
		if (err == nil) != tc.ok {
			t.Errorf("10 examples, --batch %d over %d ranks: got %v, want ok = %v", tc.batch, tc.ranks, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--batch") {
			t.Errorf("the error does not name --batch: %v", err)
		}
	}
}
