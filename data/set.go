package data

import (
	"fmt"
	"math"
	"slices"
)

// Set is a data set held in memory: N examples, each with F features and
// either a class label (classification) or K real targets (regression).
//
// Dense sets store the features row by row in X (N×F, float32). Windowed
// sets (character text) store only the token stream: example i is the window
// Tokens[i : i+C] and its label is Tokens[i+C], so Labels aliases
// Tokens[C:]; their features are produced on demand by FillBatch, and X is
// nil. Read examples through FillBatch or Row, which handle both kinds.
type Set struct {
	// Name says where the examples came from, e.g. "mnist/train".
	Name string

	// X holds the features of a dense set, N×F row-major; nil for a
	// windowed set.
	X []float32
	// Shape is the shape of one example's features; its product is F. MNIST
	// uses (1, 28, 28), so an M×F batch reshapes to M×1×28×28 for a
	// convolution; tabular data uses (F).
	Shape []int

	// Labels holds the class of each example, in [0, Classes), for
	// classification; nil for regression.
	Labels []int
	// Classes is the number of classes (0 for regression).
	Classes int
	// ClassNames[k] is the original name of class k: the label string of a
	// CSV file, the digit of MNIST, the character of a text vocabulary.
	ClassNames []string

	// Y holds the regression targets, N×K row-major; nil for classification.
	Y []float32
	// Outputs is K, the number of regression targets per example (0 for
	// classification).
	Outputs int

	// X64 and Y64, when not nil, hold the features and regression targets
	// in float64, as read from the file (standardised in float64 like X),
	// for a float64 run: X and Y are then the same values rounded to
	// float32. A float64 Batch is filled from them; nil (the default) makes
	// every batch convert X and Y. ReadCSV fills them with
	// CSVOptions.Float64.
	X64, Y64 []float64

	// Codes, when not nil, holds the features of a dense set as byte
	// codes, N×F row-major, with X[i] == CodeValues[Codes[i]] for every i
	// (MNIST's pixels and the loader's table of their values). A float32
	// batch is then decoded from Codes, reading a quarter of the bytes of
	// X. X and Codes must change together: code that edits X in place sets
	// Codes to nil.
	Codes []uint8
	// CodeValues is the table of Codes; nil when Codes is.
	CodeValues *[256]float32

	// Norm is the standardisation that was applied to X, fitted on the
	// training split, or nil if the features are raw. The training and test
	// sets of a split share it.
	Norm *Norm

	// Tokens is the token stream of a windowed (text) set; nil otherwise.
	Tokens []int
	// Context is C, the window length of a windowed set.
	Context int
	// OneHot says how a windowed set's features are encoded: true gives
	// F = C·V features, the one-hot rows of the C context tokens (Shape (C,
	// V)); false gives F = C features holding the token ids as numbers
	// (Shape (C)). Batch.Tokens holds the ids either way.
	OneHot bool
	// Vocab maps the characters of a text set to token ids.
	Vocab *Vocab
}

// Split is a training set and a test set drawn from the same source.
type Split struct {
	Train, Test *Set
}

// Features returns F, the number of features per example: the product of
// Shape.
func (s *Set) Features() int {
	f := 1
	for _, d := range s.Shape {
		f *= d
	}
	return f
}

// BatchShape returns the shape of a batch of m examples with their feature
// shape: (m, Shape…), e.g. (m, 1, 28, 28) for MNIST, the shape a
// convolution reshapes an m×F Batch.X to. It allocates the returned slice.
func (s *Set) BatchShape(m int) []int { return append([]int{m}, s.Shape...) }

// Windowed reports whether the set stores a token stream whose examples are
// built on demand (text), rather than feature rows.
func (s *Set) Windowed() bool { return s.Tokens != nil }

// Len returns N, the number of examples.
func (s *Set) Len() int {
	if s.Windowed() {
		return max(len(s.Tokens)-s.Context, 0)
	}
	f := s.Features()
	if f == 0 {
		return 0
	}
	return len(s.X) / f
}

// Classification reports whether the examples carry class labels (as
// opposed to regression targets).
func (s *Set) Classification() bool { return s.Classes > 0 }

// Row writes the F features of example i into dst (len F) and returns it;
// dst may be nil, in which case a new slice is allocated. It panics if i is
// out of range.
func (s *Set) Row(i int, dst []float32) []float32 {
	f := s.Features()
	if i < 0 || i >= s.Len() {
		panic(fmt.Sprintf("data: %s: Row(%d) of a set of %d examples", s.Name, i, s.Len()))
	}
	if dst == nil {
		dst = make([]float32, f)
	}
	if len(dst) != f {
		panic(fmt.Sprintf("data: %s: Row: dst has length %d, want %d features", s.Name, len(dst), f))
	}
	if !s.Windowed() {
		copy(dst, s.X[i*f:(i+1)*f])
		return dst
	}
	window := s.Tokens[i : i+s.Context]
	if !s.OneHot {
		for j, t := range window {
			dst[j] = float32(t)
		}
		return dst
	}
	clear(dst)
	v := s.Vocab.Size()
	for j, t := range window {
		dst[j*v+t] = 1
	}
	return dst
}

// Validate checks that the fields of s agree with each other: the lengths of
// X, Labels, Y and Tokens, labels in [0, Classes), one class name per class,
// and finite features and targets. Every loader of this package returns sets
// that pass it; it is there for sets built by hand.
func (s *Set) Validate() error {
	f := s.Features()
	for _, d := range s.Shape {
		if d <= 0 {
			return fmt.Errorf("data: set %q: shape %v has a non-positive dimension", s.Name, s.Shape)
		}
	}
	if len(s.Shape) == 0 {
		return fmt.Errorf("data: set %q: empty feature shape", s.Name)
	}
	n := s.Len()
	if s.Windowed() {
		if s.X != nil {
			return fmt.Errorf("data: set %q: a windowed set has X != nil", s.Name)
		}
		if s.Context <= 0 || s.Vocab == nil {
			return fmt.Errorf("data: set %q: a windowed set needs Context > 0 and a Vocab", s.Name)
		}
		want := []int{s.Context}
		if s.OneHot {
			want = []int{s.Context, s.Vocab.Size()}
		}
		if !slices.Equal(s.Shape, want) {
			return fmt.Errorf("data: set %q: shape %v, want %v for a window of %d tokens (one-hot %v)",
				s.Name, s.Shape, want, s.Context, s.OneHot)
		}
		if s.Classes != s.Vocab.Size() {
			return fmt.Errorf("data: set %q: %d classes for a vocabulary of %d", s.Name, s.Classes, s.Vocab.Size())
		}
		for i, t := range s.Tokens {
			if t < 0 || t >= s.Vocab.Size() {
				return fmt.Errorf("data: set %q: token %d at position %d outside the vocabulary of %d", s.Name, t, i, s.Vocab.Size())
			}
		}
	} else {
		if len(s.X) != n*f {
			return fmt.Errorf("data: set %q: len(X) = %d is not a multiple of %d features", s.Name, len(s.X), f)
		}
		for i, v := range s.X {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("data: set %q: feature %d of example %d is %v", s.Name, i%f, i/f, v)
			}
		}
	}
	switch {
	case s.Classes > 0:
		if s.Outputs != 0 || s.Y != nil {
			return fmt.Errorf("data: set %q: both class labels and regression targets", s.Name)
		}
		if len(s.Labels) != n {
			return fmt.Errorf("data: set %q: %d labels for %d examples", s.Name, len(s.Labels), n)
		}
		for i, l := range s.Labels {
			if l < 0 || l >= s.Classes {
				return fmt.Errorf("data: set %q: label %d of example %d outside [0, %d)", s.Name, l, i, s.Classes)
			}
		}
		if len(s.ClassNames) != s.Classes {
			return fmt.Errorf("data: set %q: %d class names for %d classes", s.Name, len(s.ClassNames), s.Classes)
		}
	case s.Outputs > 0:
		if s.Labels != nil {
			return fmt.Errorf("data: set %q: both class labels and regression targets", s.Name)
		}
		if len(s.Y) != n*s.Outputs {
			return fmt.Errorf("data: set %q: len(Y) = %d, want %d examples × %d outputs", s.Name, len(s.Y), n, s.Outputs)
		}
		for i, v := range s.Y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("data: set %q: target %d of example %d is %v", s.Name, i%s.Outputs, i/s.Outputs, v)
			}
		}
	default:
		return fmt.Errorf("data: set %q: neither Classes nor Outputs is positive", s.Name)
	}
	if s.X64 != nil && len(s.X64) != len(s.X) || s.Y64 != nil && len(s.Y64) != len(s.Y) {
		return fmt.Errorf("data: set %q: %d float64 features for %d, %d float64 targets for %d", s.Name, len(s.X64), len(s.X), len(s.Y64), len(s.Y))
	}
	if s.Codes != nil {
		if len(s.Codes) != len(s.X) || s.CodeValues == nil {
			return fmt.Errorf("data: set %q: %d codes for %d features (table set: %v); set Codes to nil, or to one code per feature with CodeValues", s.Name, len(s.Codes), len(s.X), s.CodeValues != nil)
		}
		for i, c := range s.Codes {
			if math.Float32bits(s.X[i]) != math.Float32bits(s.CodeValues[c]) {
				return fmt.Errorf("data: set %q: feature %d of example %d is %v but its code %d stands for %v; X was changed without Codes: set Codes to nil", s.Name, i%f, i/f, s.X[i], c, s.CodeValues[c])
			}
		}
	}
	if s.Norm != nil && (len(s.Norm.Mean) != f || len(s.Norm.Std) != f) {
		return fmt.Errorf("data: set %q: Norm has %d means and %d deviations for %d features", s.Name, len(s.Norm.Mean), len(s.Norm.Std), f)
	}
	return nil
}

// Subset returns a new dense set holding copies of the examples idx, in that
// order, with the same shape, classes and Norm. It panics for a windowed set
// (its examples overlap; cut its token stream instead) and for an index out
// of range.
func (s *Set) Subset(name string, idx []int) *Set {
	if s.Windowed() {
		panic(fmt.Sprintf("data: %s: Subset of a windowed set", s.Name))
	}
	f, n := s.Features(), s.Len()
	out := &Set{
		Name: name, Shape: slices.Clone(s.Shape), Classes: s.Classes,
		ClassNames: s.ClassNames, Outputs: s.Outputs, Norm: s.Norm,
		X: make([]float32, 0, len(idx)*f),
	}
	if s.Labels != nil {
		out.Labels = make([]int, 0, len(idx))
	}
	if s.Y != nil {
		out.Y = make([]float32, 0, len(idx)*s.Outputs)
	}
	if s.X64 != nil {
		out.X64 = make([]float64, 0, len(idx)*f)
	}
	if s.Codes != nil {
		out.Codes, out.CodeValues = make([]uint8, 0, len(idx)*f), s.CodeValues
	}
	if s.Y64 != nil {
		out.Y64 = make([]float64, 0, len(idx)*s.Outputs)
	}
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: %s: Subset index %d of a set of %d examples", s.Name, i, n))
		}
		out.X = append(out.X, s.X[i*f:(i+1)*f]...)
		if s.Codes != nil {
			out.Codes = append(out.Codes, s.Codes[i*f:(i+1)*f]...)
		}
		if s.X64 != nil {
			out.X64 = append(out.X64, s.X64[i*f:(i+1)*f]...)
		}
		if s.Y64 != nil {
			out.Y64 = append(out.Y64, s.Y64[i*s.Outputs:(i+1)*s.Outputs]...)
		}
		if s.Labels != nil {
			out.Labels = append(out.Labels, s.Labels[i])
		}
		if s.Y != nil {
			out.Y = append(out.Y, s.Y[i*s.Outputs:(i+1)*s.Outputs]...)
		}
	}
	return out
}

// Norm is a per-feature standardisation,
//
//	x'_j = (x_j − Mean_j) / Std_j,
//
// with Mean and Std (len F) fitted on a training set by FitNorm.
type Norm struct {
	Mean, Std []float32
	// Mean64 and Std64 are the same fit before rounding to float32, which
	// ApplyFloat64 uses.
	Mean64, Std64 []float64
}

// FitNorm returns the per-feature mean and population standard deviation of
// the N×F rows x, accumulated in float64 (two passes). A feature whose
// deviation is 0, below 1e-6·|mean| — constant up to float32 rounding — or
// so small that it rounds to 0 in float32 gets Std 1, so it is centred but
// not blown up (nor divided by zero). It panics if len(x) is not a multiple
// of f.
func FitNorm(x []float32, f int) *Norm { return fitNorm(x, f) }

// FitNorm64 is FitNorm of float64 rows (the values of Set.X64).
func FitNorm64(x []float64, f int) *Norm { return fitNorm(x, f) }

func fitNorm[F float32 | float64](x []F, f int) *Norm {
	if f <= 0 || len(x)%f != 0 {
		panic(fmt.Sprintf("data: FitNorm: %d values are not rows of %d features", len(x), f))
	}
	n := len(x) / f
	mean := make([]float64, f)
	for i := range n {
		for j, v := range x[i*f : (i+1)*f] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(max(n, 1))
	}
	ss := make([]float64, f)
	for i := range n {
		for j, v := range x[i*f : (i+1)*f] {
			d := float64(v) - mean[j]
			ss[j] += d * d
		}
	}
	nm := &Norm{Mean: make([]float32, f), Std: make([]float32, f), Mean64: mean, Std64: make([]float64, f)}
	for j := range f {
		sd := math.Sqrt(ss[j] / float64(max(n, 1)))
		if sd == 0 || sd <= 1e-6*math.Abs(mean[j]) || float32(sd) == 0 {
			sd = 1
		}
		nm.Mean[j], nm.Std[j], nm.Std64[j] = float32(mean[j]), float32(sd), sd
	}
	return nm
}

// Apply standardises the N×F rows x in place:
//
//	x_ij ← float32((x_ij − Mean_j) / Std_j),
//
// evaluated in float64 and rounded once, so that the difference of two
// values near ±MaxFloat32 does not overflow. The result can still exceed the
// float32 range — a row far outside the training rows of a feature that was
// constant there (Std 1) — and is then ±Inf; ReadCSV reports such a value as
// an error, and a caller of Apply should check. It panics if len(x) is not a
// multiple of F.
func (nm *Norm) Apply(x []float32) {
	f := len(nm.Mean)
	if f == 0 || len(x)%f != 0 {
		panic(fmt.Sprintf("data: Norm.Apply: %d values are not rows of %d features", len(x), f))
	}
	for i := 0; i < len(x); i += f {
		row := x[i : i+f]
		for j := range row {
			row[j] = float32((float64(row[j]) - float64(nm.Mean[j])) / float64(nm.Std[j]))
		}
	}
}

// ApplyFloat64 standardises the N×F float64 rows x in place with the
// unrounded fit: x_ij ← (x_ij − Mean64_j) / Std64_j. It panics if len(x)
// is not a multiple of F.
func (nm *Norm) ApplyFloat64(x []float64) {
	f := len(nm.Mean64)
	if f == 0 || len(x)%f != 0 {
		panic(fmt.Sprintf("data: Norm.ApplyFloat64: %d values are not rows of %d features", len(x), f))
	}
	for i := 0; i < len(x); i += f {
		row := x[i : i+f]
		for j := range row {
			row[j] = (row[j] - nm.Mean64[j]) / nm.Std64[j]
		}
	}
}
