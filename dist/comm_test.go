package dist

import (
	"errors"
	"strings"
	"testing"
)

func TestLocalIsOneRank(t *testing.T) {
	c, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rank() != 0 || c.Size() != 1 {
		t.Fatalf("Local: rank %d of %d, want 0 of 1", c.Rank(), c.Size())
	}
	f32 := []float32{1.5, -2}
	f64 := []float64{3.25, 4}
	if err := Sum(c, f32); err != nil {
		t.Fatal(err)
	}
	if err := Sum(c, f64); err != nil {
		t.Fatal(err)
	}
	if err := c.BroadcastFloat64(f64, 0); err != nil {
		t.Fatal(err)
	}
	if f32[0] != 1.5 || f32[1] != -2 || f64[0] != 3.25 || f64[1] != 4 {
		t.Errorf("a sum or broadcast over one rank changed its buffer: %v %v", f32, f64)
	}
	if err := c.BroadcastFloat64(f64, 1); err == nil {
		t.Error("broadcast from root 1 of 1 rank: want an error")
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnknown(t *testing.T) {
	_, err := Open("tcp", Options{})
	if err == nil || !strings.Contains(err.Error(), "valid: none, mpi") {
		t.Fatalf("Open(tcp): got %v, want an error listing the valid kinds", err)
	}
	if errors.Is(err, ErrTimeout) {
		t.Fatal("an unknown kind is not a timeout")
	}
}
