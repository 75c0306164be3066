package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestSyntheticDefaults(t *testing.T) {
	sp, truth, err := Synthetic(SyntheticOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, te := sp.Train, sp.Test
	if tr.Len() != 1000 || te.Len() != 200 || tr.Features() != 10 || tr.Outputs != 1 || len(truth.A) != 10 || len(truth.B) != 1 {
		t.Fatalf("got %d/%d examples, %d inputs, %d outputs, |A| %d, |b| %d; want 1000/200, 10, 1, 10, 1",
			tr.Len(), te.Len(), tr.Features(), tr.Outputs, len(truth.A), len(truth.B))
	}
	for _, s := range []*Set{tr, te} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		// The residual y − (A·x + b) is the noise: mean 0, sd 0.1. With n
		// draws the sample mean has sd 0.1/√n and the sample sd a relative
		// sd of about 1/√(2n); allow 5 of each.
		n := float64(s.Len())
		var sum, sq float64
		for i := range s.Len() {
			r := float64(s.Y[i]) - truth.B[0]
			for j := range 10 {
				r -= truth.A[j] * float64(s.X[i*10+j])
			}
			sum += r
			sq += r * r
		}
		mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		if math.Abs(mean) > 5*0.1/math.Sqrt(n) || math.Abs(sd/0.1-1) > 5/math.Sqrt(2*n) {
			t.Errorf("%s: residual mean %v sd %v, want 0 and 0.1", s.Name, mean, sd)
		}
		// The inputs are N(0, 1): variance within 5 standard errors of 1
		// (the sample variance of m normals has sd √(2/m)).
		var xs, xq float64
		for _, v := range s.X {
			xs += float64(v)
			xq += float64(v) * float64(v)
		}
		m := float64(len(s.X))
		if v := xq/m - (xs/m)*(xs/m); math.Abs(v-1) > 5*math.Sqrt(2/m) {
			t.Errorf("%s: input variance %v, want 1", s.Name, v)
		}
	}
}

func TestSyntheticSeedsAndSizes(t *testing.T) {
	a, ta, _ := Synthetic(SyntheticOptions{Seed: 5, Samples: 30, Test: 7, Inputs: 3, Outputs: 2, Noise: -1})
	b, tb, _ := Synthetic(SyntheticOptions{Seed: 5, Samples: 30, Test: 7, Inputs: 3, Outputs: 2, Noise: -1})
	c, _, _ := Synthetic(SyntheticOptions{Seed: 6, Samples: 30, Test: 7, Inputs: 3, Outputs: 2, Noise: -1})
	if !slices.Equal(a.Train.X, b.Train.X) || !slices.Equal(a.Test.Y, b.Test.Y) || !slices.Equal(ta.A, tb.A) {
		t.Error("the same seed gave different data")
	}
	if slices.Equal(a.Train.X, c.Train.X) {
		t.Error("seeds 5 and 6 gave the same inputs")
	}
	if a.Train.Len() != 30 || a.Test.Len() != 7 || a.Train.Outputs != 2 || len(a.Train.Y) != 60 {
		t.Fatalf("got %d/%d examples, %d outputs, want 30/7, 2", a.Train.Len(), a.Test.Len(), a.Train.Outputs)
	}
	// Without noise y = A·x + b up to float32 rounding of y (relative 6e-8
	// of values of order 3).
	for i := range 30 {
		for k := range 2 {
			want := ta.B[k]
			for j := range 3 {
				want += ta.A[k*3+j] * float64(a.Train.X[i*3+j])
			}
			if got := float64(a.Train.Y[i*2+k]); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("noise-free target %d of example %d is %v, want %v", k, i, got, want)
			}
		}
	}
	for _, o := range []SyntheticOptions{{Samples: -1}, {Inputs: -2}, {Noise: math.NaN()}} {
		if _, _, err := Synthetic(o); err == nil || !strings.Contains(err.Error(), "data: synthetic:") {
			t.Errorf("Synthetic(%+v): error %v, want one starting data: synthetic:", o, err)
		}
	}
}

func TestTeacherForward(t *testing.T) {
	// A 2-2-1 network with hand-picked weights, computed by hand:
	// h = tanh(W1·x + b1), y = W2·h + b2.
	net := &TeacherNet{
		Sizes: []int{2, 2, 1},
		W:     [][]float64{{1, -1, 0.5, 2}, {3, -2}},
		B:     [][]float64{{0, 0.5}, {0.25}},
	}
	x := []float64{0.3, -0.2}
	h0 := math.Tanh(0.3 + 0.2)
	h1 := math.Tanh(0.15 - 0.4 + 0.5)
	want := 3*h0 - 2*h1 + 0.25
	if got := net.Forward(x); len(got) != 1 || math.Abs(got[0]-want) > 1e-15 {
		t.Errorf("Forward(%v) = %v, want [%v]", x, got, want)
	}
}

func TestTeacher(t *testing.T) {
	sp, net, err := Teacher(TeacherOptions{SyntheticOptions: SyntheticOptions{Seed: 2, Samples: 400, Inputs: 4, Outputs: 2}, Hidden: []int{8, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(net.Sizes, []int{4, 8, 6, 2}) || sp.Train.Len() != 400 || sp.Test.Len() != 80 {
		t.Fatalf("got sizes %v and %d/%d examples, want [4 8 6 2] and 400/80", net.Sizes, sp.Train.Len(), sp.Test.Len())
	}
	for _, s := range []*Set{sp.Train, sp.Test} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	// Residuals against the teacher are the noise (sd 0.1, 800 draws: the
	// sample sd is within 5/√1600 relative of it); the targets themselves
	// vary far more than the noise.
	var sq, ysq float64
	n := 0
	for i := range sp.Train.Len() {
		x := make([]float64, 4)
		for j := range x {
			x[j] = float64(sp.Train.X[i*4+j])
		}
		y := net.Forward(x)
		for k := range 2 {
			r := float64(sp.Train.Y[i*2+k]) - y[k]
			sq += r * r
			ysq += y[k] * y[k]
			n++
		}
	}
	if sd := math.Sqrt(sq / float64(n)); math.Abs(sd/0.1-1) > 5/math.Sqrt(2*float64(n)) {
		t.Errorf("teacher residual sd %v, want 0.1", sd)
	}
	if rms := math.Sqrt(ysq / float64(n)); rms < 0.3 {
		t.Errorf("teacher outputs have rms %v, want well above the noise 0.1", rms)
	}
	if _, _, err := Teacher(TeacherOptions{Hidden: []int{4, 0}}); err == nil || !strings.Contains(err.Error(), "layer sizes") {
		t.Errorf("hidden width 0: error %v, want one about layer sizes", err)
	}
}
