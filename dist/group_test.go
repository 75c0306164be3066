package dist

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// onRanks runs f on every member of a group of n, each in its goroutine,
// and returns their errors by rank.
func onRanks(n int, opts Options, f func(c Comm) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range NewGroup(n, opts) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	return errs
}

// TestGroupCollectives: with 3 ranks, rank r contributing (r+1)·(i+1), the
// sum is 6·(i+1) on every rank, in both precisions, several times in a row
// (the barrier is cyclic); a broadcast from rank 2 reaches all.
func TestGroupCollectives(t *testing.T) {
	const n = 3
	errs := onRanks(n, Options{}, func(c Comm) error {
		for round := range 3 {
			f32 := make([]float32, 5)
			f64 := make([]float64, 5)
			for i := range f32 {
				f32[i], f64[i] = float32((c.Rank()+1)*(i+1)), float64((c.Rank()+1)*(i+1))
			}
			if err := Sum(c, f32); err != nil {
				return err
			}
			if err := Sum(c, f64); err != nil {
				return err
			}
			for i := range f32 {
				if want := 6 * (i + 1); f32[i] != float32(want) || f64[i] != float64(want) {
					t.Errorf("round %d, rank %d: sum[%d] = %v, %v; want %d", round, c.Rank(), i, f32[i], f64[i], want)
				}
			}
			b := []float64{float64(c.Rank()), -1}
			if err := c.BroadcastFloat64(b, 2); err != nil {
				return err
			}
			if b[0] != 2 || b[1] != -1 {
				t.Errorf("round %d, rank %d: after a broadcast from rank 2: %v", round, c.Rank(), b)
			}
			if err := c.Barrier(); err != nil {
				return err
			}
		}
		return nil
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// TestGroupTimeout: a rank that never arrives makes the others' collective
// fail with ErrTimeout after the limit, and the group stays failed.
func TestGroupTimeout(t *testing.T) {
	const limit = 50 * time.Millisecond
	start := time.Now()
	errs := onRanks(2, Options{Timeout: limit}, func(c Comm) error {
		if c.Rank() == 1 {
			return nil // stays away
		}
		if err := c.SumFloat64([]float64{1}); !errors.Is(err, ErrTimeout) {
			t.Errorf("rank 0 alone in an all-reduce: got %v, want ErrTimeout", err)
		}
		return c.Barrier()
	})
	if errs[0] == nil {
		t.Error("a collective on a failed group succeeded")
	}
	if d := time.Since(start); d < limit {
		t.Errorf("the timeout came after %v, before the limit %v", d, limit)
	}
}
