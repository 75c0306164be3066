package data

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// codedSet returns a dense classification set of n examples of f features
// whose X is its codes looked up in a table of distinct values.
func codedSet(n, f int, seed uint64) *Set {
	r := rand.New(rand.NewPCG(seed, 1))
	table := new([256]float32)
	for c := range table {
		table[c] = float32(c)/255 - 0.5 + float32(r.Float64())*1e-3
	}
	s := &Set{Name: "coded", Shape: []int{f}, X: make([]float32, n*f), Codes: make([]uint8, n*f), CodeValues: table,
		Labels: make([]int, n), Classes: 2, ClassNames: []string{"a", "b"}}
	for i := range s.Codes {
		s.Codes[i] = uint8(r.Uint32())
		s.X[i] = table[s.Codes[i]]
	}
	for i := range s.Labels {
		s.Labels[i] = i % 2
	}
	return s
}

// TestFillBatchFromCodes: a float32 batch of a set with Codes — decoded
// from the bytes, on one thread and on the pool — holds the bits of X's
// rows, as a batch of the same set without Codes does; a float64 batch
// converts X as before; Subset keeps the codes and Validate accepts the
// set, and rejects one whose X was changed without its codes.
func TestFillBatchFromCodes(t *testing.T) {
	for _, m := range []int{3, 128} { // 128·784 elements is above parallelRows
		s := codedSet(300, 784, uint64(m))
		plain := *s
		plain.Codes, plain.CodeValues = nil, nil
		idx := rand.New(rand.NewPCG(5, uint64(m))).Perm(300)[:m]
		var got, want Batch[float32]
		FillBatch(&got, s, idx)
		FillBatch(&want, &plain, idx)
		for i, v := range want.X.Data() {
			if math.Float32bits(got.X.Data()[i]) != math.Float32bits(v) {
				t.Fatalf("m=%d: element %d decoded as %v, X holds %v", m, i, got.X.Data()[i], v)
			}
		}
		var b64 Batch[float64]
		FillBatch(&b64, s, idx)
		for i, v := range want.X.Data() {
			if b64.X.Data()[i] != float64(v) {
				t.Fatalf("m=%d: float64 element %d = %v, want %v", m, i, b64.X.Data()[i], v)
			}
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		sub := s.Subset("sub", idx)
		if err := sub.Validate(); err != nil || sub.Codes == nil {
			t.Fatalf("Subset: codes %v, Validate: %v", sub.Codes != nil, err)
		}
	}
	s := codedSet(4, 5, 9)
	s.X[7] += 1 // edited without its code
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "set Codes to nil") {
		t.Fatalf("Validate of a set whose X disagrees with its codes: %v, want an error saying to set Codes to nil", err)
	}
}

// TestFillBatchCodesTableChange: a Batch reused with a set whose table
// differs decodes with the new table.
func TestFillBatchCodesTableChange(t *testing.T) {
	a, b := codedSet(10, 70, 1), codedSet(10, 70, 2)
	copy(b.Codes, a.Codes)
	for i, c := range b.Codes {
		b.X[i] = b.CodeValues[c]
	}
	var batch Batch[float32]
	idx := []int{3, 1, 4}
	FillBatch(&batch, a, idx)
	FillBatch(&batch, b, idx)
	for k, i := range idx {
		for j := range 70 {
			if got, want := batch.X.Data()[k*70+j], b.X[i*70+j]; got != want {
				t.Fatalf("row %d, feature %d: %v after a table change, want %v", k, j, got, want)
			}
		}
	}
}
