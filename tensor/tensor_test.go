package tensor

import (
	"strings"
	"testing"
)

func TestMatMulTransposes(t *testing.T) {
	a := FromSlice([]float64{1, 2, 3, 4, 5, 6}, 2, 3) // 2×3
	b := FromSlice([]float64{1, 0, 2, 1, 0, 3}, 3, 2) // 3×2
	want := []float64{1 + 4 + 0, 0 + 2 + 9, 4 + 10 + 0, 0 + 5 + 18}
	dst := New[float64](2, 2)
	MatMul(dst, a, b, false, false, 1, 0)
	for i, w := range want {
		if dst.Data()[i] != w {
			t.Fatalf("a·b = %v, want %v", dst.Data(), want)
		}
	}
	at := FromSlice([]float64{1, 4, 2, 5, 3, 6}, 3, 2) // aᵀ
	bt := FromSlice([]float64{1, 2, 0, 0, 1, 3}, 2, 3) // bᵀ
	MatMul(dst, at, bt, true, true, 2, 0)
	for i, w := range want {
		if dst.Data()[i] != 2*w {
			t.Fatalf("2·atᵀ·btᵀ = %v, want 2×%v", dst.Data(), want)
		}
	}
}

func TestMatMulShapePanic(t *testing.T) {
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "tensor: MatMul") || !strings.Contains(msg, "[2 3]") {
			t.Fatalf("panic = %v, want a tensor: MatMul message naming the shapes", r)
		}
	}()
	MatMul(New[float32](2, 2), New[float32](2, 3), New[float32](2, 2), false, false, 1, 0)
}

func TestBroadcastsAndReductions(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	v := FromSlice([]float32{10, 20, 30}, 3)
	dst := New[float32](2, 3)
	AddRowVector(dst, a, v)
	if got := dst.Data(); got[0] != 11 || got[5] != 36 {
		t.Fatalf("AddRowVector = %v", got)
	}
	s := New[float32](3)
	SumRows(s, a, 0)
	if got := s.Data(); got[0] != 5 || got[1] != 7 || got[2] != 9 {
		t.Fatalf("SumRows = %v, want [5 7 9]", got)
	}
	if got := Dot(a, a); got != 91 {
		t.Fatalf("Dot = %v, want 91", got)
	}
}

func TestReshapeAndResize(t *testing.T) {
	a := New[float64](2, 3, 4)
	b := a.Reshape(6, -1)
	if b.Dim(1) != 4 || b.Dim(-1) != 4 {
		t.Fatalf("Reshape(6, -1) shape %v", b.Shape())
	}
	b.Data()[5] = 7
	if a.At(0, 1, 1) != 7 {
		t.Fatal("Reshape does not share data")
	}
	a.Resize(2, 2)
	if a.Len() != 4 || cap(a.Data()) != 24 {
		t.Fatalf("Resize reallocated: len %d cap %d", a.Len(), cap(a.Data()))
	}
}

func TestResizeDoesNotAllocate(t *testing.T) {
	x := New[float32](4, 5)
	if n := testing.AllocsPerRun(100, func() { x.Resize(2, 3) }); n != 0 {
		t.Fatalf("Resize to a smaller shape allocated %v times per call", n)
	}
}
