package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// SyntheticOptions configures Synthetic and Teacher. The zero value gives the
// demo of the GeN authors' implementation: 1000 training examples (and 200
// test examples), 10 inputs, 1 output, noise 0.1, seed 0.
type SyntheticOptions struct {
	// Samples is the number of training examples (default 1000).
	Samples int
	// Test is the number of test examples, drawn from the same distribution
	// (default Samples/5).
	Test int
	// Inputs is D, the number of features (default 10).
	Inputs int
	// Outputs is K, the number of targets (default 1).
	Outputs int
	// Noise is σ, the standard deviation of the Gaussian noise added to each
	// target (default 0.1; a negative value means no noise).
	Noise float64
	// Seed selects the model and the samples.
	Seed uint64
}

func (o SyntheticOptions) withDefaults() (SyntheticOptions, error) {
	if o.Samples == 0 {
		o.Samples = 1000
	}
	if o.Test == 0 {
		o.Test = max(o.Samples/5, 1)
	}
	if o.Inputs == 0 {
		o.Inputs = 10
	}
	if o.Outputs == 0 {
		o.Outputs = 1
	}
	switch {
	case o.Noise == 0:
		o.Noise = 0.1
	case o.Noise < 0:
		o.Noise = 0
	}
	if o.Samples < 0 || o.Test < 0 || o.Inputs < 0 || o.Outputs < 0 || math.IsNaN(o.Noise) || math.IsInf(o.Noise, 0) {
		return o, fmt.Errorf("data: synthetic: bad sizes: %d samples, %d test, %d inputs, %d outputs, noise %v; sizes must be positive (0 means the default)",
			o.Samples, o.Test, o.Inputs, o.Outputs, o.Noise)
	}
	return o, nil
}

// Affine is the ground truth of Synthetic: y = A·x + b, with A K×D
// row-major and b of length K.
type Affine struct {
	A, B []float64
}

// Synthetic draws an affine regression problem (the synthetic demo of the GeN
// authors' implementation, REFERENCES.md):
//
//	A_kj ~ N(0, 1),  b_k ~ N(0, 1)                  (once)
//	x ~ N(0, I_D),   y = A·x + b + σ·ε,  ε ~ N(0, I_K)   (per example)
//
// The features are stored as float32 and y is computed from the stored
// values in float64, then rounded, so y − (A·x + b) is the noise up to
// float32 rounding. The same options give the same data with the same Go
// release (the normal draws come from math/rand/v2's NormFloat64 on a PCG
// source). It returns the split and the true (A, b); the error reports
// invalid sizes.
func Synthetic(opts SyntheticOptions) (Split, *Affine, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Split{}, nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, syntheticStream))
	truth := &Affine{A: normals(rng, o.Outputs*o.Inputs, 1), B: normals(rng, o.Outputs, 1)}
	f := func(x []float32, y []float64) {
		for k := range y {
			s := truth.B[k]
			for j, v := range x {
				s += truth.A[k*len(x)+j] * float64(v)
			}
			y[k] = s
		}
	}
	return Split{
		Train: regressionSet("synthetic/train", o.Samples, o, rng, f),
		Test:  regressionSet("synthetic/test", o.Test, o, rng, f),
	}, truth, nil
}

// TeacherOptions configures Teacher: the sizes of SyntheticOptions and the
// hidden widths of the teacher network.
type TeacherOptions struct {
	SyntheticOptions
	// Hidden lists the widths of the hidden layers (default one layer of 32).
	Hidden []int
}

// TeacherNet is a fully connected tanh network,
//
//	h_0 = x,  h_l = tanh(W_l·h_{l−1} + b_l) for hidden layers,  y = W_L·h_{L−1} + b_L,
//
// with W_l of shape Sizes[l]×Sizes[l−1] (row-major) and b_l of length
// Sizes[l]; the output layer is linear.
type TeacherNet struct {
	Sizes []int
	W, B  [][]float64
}

// Forward returns the network's output for x (len Sizes[0]) in float64.
func (t *TeacherNet) Forward(x []float64) []float64 {
	h := x
	for l := range t.W {
		in, out := t.Sizes[l], t.Sizes[l+1]
		next := make([]float64, out)
		for i := range out {
			s := t.B[l][i]
			for j := range in {
				s += t.W[l][i*in+j] * h[j]
			}
			if l < len(t.W)-1 {
				s = math.Tanh(s)
			}
			next[i] = s
		}
		h = next
	}
	return h
}

// Teacher draws a regression problem whose targets come from a random
// teacher network (the teacher–student setting, e.g. Seung, Sompolinsky &
// Tishby, Phys. Rev. A 45, 1992):
//
//	W_l entries ~ N(0, 1/Sizes[l−1]),  b_l entries ~ N(0, 1/4)    (once)
//	x ~ N(0, I_D),  y = teacher(x) + σ·ε,  ε ~ N(0, I_K)          (per example)
//
// with Sizes = (D, Hidden…, K). The 1/fan-in variance keeps each tanh's input
// of order one, so the targets are neither linear nor saturated. It returns
// the split and the teacher; the error reports invalid sizes.
func Teacher(opts TeacherOptions) (Split, *TeacherNet, error) {
	o, err := opts.SyntheticOptions.withDefaults()
	if err != nil {
		return Split{}, nil, fmt.Errorf("data: teacher: %w", err)
	}
	hidden := opts.Hidden
	if len(hidden) == 0 {
		hidden = []int{32}
	}
	sizes := append(append([]int{o.Inputs}, hidden...), o.Outputs)
	for _, s := range sizes {
		if s <= 0 {
			return Split{}, nil, fmt.Errorf("data: teacher: layer sizes %v must be positive", sizes)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, teacherStream))
	net := &TeacherNet{Sizes: sizes}
	for l := 1; l < len(sizes); l++ {
		net.W = append(net.W, normals(rng, sizes[l]*sizes[l-1], 1/math.Sqrt(float64(sizes[l-1]))))
		net.B = append(net.B, normals(rng, sizes[l], 0.5))
	}
	x64 := make([]float64, o.Inputs)
	f := func(x []float32, y []float64) {
		for j, v := range x {
			x64[j] = float64(v)
		}
		copy(y, net.Forward(x64))
	}
	return Split{
		Train: regressionSet("teacher/train", o.Samples, o, rng, f),
		Test:  regressionSet("teacher/test", o.Test, o, rng, f),
	}, net, nil
}

// PCG streams of the synthetic generators, distinct from each other and
// from the Loader's.
const (
	syntheticStream = 0x5717_7e71_c000_0001
	teacherStream   = 0x7eac_4e20_0000_0001
)

// regressionSet draws n examples x ~ N(0, I_D) and targets model(x) + σ·ε.
func regressionSet(name string, n int, o SyntheticOptions, rng *rand.Rand, model func(x []float32, y []float64)) *Set {
	d, k := o.Inputs, o.Outputs
	s := &Set{Name: name, Shape: []int{d}, X: make([]float32, n*d), Y: make([]float32, n*k), Outputs: k}
	y := make([]float64, k)
	for i := range n {
		x := s.X[i*d : (i+1)*d]
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		model(x, y)
		for j := range y {
			s.Y[i*k+j] = float32(y[j] + o.Noise*rng.NormFloat64())
		}
	}
	return s
}

// normals returns n draws from N(0, sd²).
func normals(rng *rand.Rand, n int, sd float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = sd * rng.NormFloat64()
	}
	return v
}
