package data

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Header says whether the first row of a CSV file names its columns.
type Header int

const (
	// HeaderAuto (the default) treats the first row as a header when the
	// target is given by name, or when one of its feature fields (any field
	// but the target's) is not a number.
	HeaderAuto Header = iota
	// HeaderPresent: the first row is a header.
	HeaderPresent
	// HeaderAbsent: the first row is data.
	HeaderAbsent
)

// CSVOptions configures ReadCSV and LoadCSV. The zero value reads a
// classification table whose last column is the label, detects a header,
// holds out 20 % of the rows (seed 0) and standardises the features with
// the training rows' statistics.
type CSVOptions struct {
	// Target names the target column: a header name, or a 0-based index
	// (negative counts from the end: -1 is the last). Default: the last
	// column.
	Target string
	// Regression reads the target as a real number (Outputs = 1) instead of
	// a class label.
	Regression bool
	// Header says whether the first row is a header (default HeaderAuto).
	Header Header
	// TestFraction is the fraction of rows, drawn at random, that form the
	// test set (default 0.2; negative: no test set, Test is empty).
	TestFraction float64
	// Seed selects the random train/test split.
	Seed uint64
	// Raw keeps the features as read, instead of standardising each feature
	// with the mean and deviation of the training rows (see FitNorm).
	Raw bool
	// Comma is the field separator (default ',').
	Comma rune
	// Float64 also keeps the values in float64 (Set.X64 and Set.Y64,
	// standardised in float64), for a float64 run that should see the
	// file's numbers rather than their float32 roundings (default false).
	Float64 bool
}

// LoadCSV reads the CSV file at path; see ReadCSV.
func LoadCSV(path string, opts CSVOptions) (Split, error) {
	f, err := os.Open(path)
	if err != nil {
		return Split{}, fmt.Errorf("data: csv: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, filepath.Base(path), opts)
}

// ReadCSV reads a table of numbers from r: every column but the target is a
// feature and must parse as a finite number; the target column is a class
// label (any string) or, with Regression, a finite number. name is the file
// name used in error messages, which carry the 1-based line number.
//
// Classification maps each distinct label to a class id in sorted order —
// numerically if every label is a number ("2" < "10"), else by string — and
// keeps the label strings in ClassNames. The rows are split at random
// (Seed, TestFraction) into training and test rows that keep their file
// order; unless Raw, both are standardised with FitNorm of the training
// rows (kept in Set.Norm), and a standardised value outside the float32
// range (a test row far from training rows that were constant in that
// column) is an error naming the line and column.
func ReadCSV(r io.Reader, name string, opts CSVOptions) (Split, error) {
	cr := csv.NewReader(r)
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = 0 // the first row fixes the count; others must match
	first, err := cr.Read()
	if err == io.EOF {
		return Split{}, fmt.Errorf("data: csv: %s: empty file", name)
	}
	if err != nil {
		return Split{}, csvErr(name, err)
	}
	first = slices.Clone(first)
	first[0] = strings.TrimPrefix(first[0], "\ufeff") // a byte-order mark some editors write
	cols := len(first)
	if cols < 2 {
		return Split{}, fmt.Errorf("data: csv: %s:1: %d column(s); need at least one feature and a target", name, cols)
	}
	target, err := targetColumn(opts.Target, first, opts.Header)
	if err != nil {
		return Split{}, fmt.Errorf("data: csv: %s:1: %w", name, err)
	}
	_, byIndex := strconv.Atoi(opts.Target)
	header := opts.Header == HeaderPresent || opts.Target != "" && byIndex != nil
	if opts.Header == HeaderAuto && !header {
		for j, field := range first {
			if _, ok := parseNumber(field); !ok && j != target {
				header = true
				break
			}
		}
	}
	var names []string
	if header {
		names = first
	}

	f := cols - 1
	var (
		x      []float32
		labels []string
		y      []float32
		x64    []float64 // with Float64
		y64    []float64
		lines  []int // the 1-based line of each data row, for error messages
	)
	addRow := func(rec []string, line int) error {
		lines = append(lines, line)
		for j, field := range rec {
			if j == target {
				continue
			}
			v, ok := parseNumber(field)
			if !ok {
				return fmt.Errorf("data: csv: %s:%d: column %s: %q is not a finite number", name, line, colName(j, names), field)
			}
			x = append(x, float32(v))
			if opts.Float64 {
				x64 = append(x64, v)
			}
		}
		if opts.Regression {
			v, ok := parseNumber(rec[target])
			if !ok {
				return fmt.Errorf("data: csv: %s:%d: target column %s: %q is not a finite number (drop Regression for class labels)", name, line, colName(target, names), rec[target])
			}
			y = append(y, float32(v))
			if opts.Float64 {
				y64 = append(y64, v)
			}
		} else {
			label := strings.TrimSpace(rec[target])
			if label == "" {
				return fmt.Errorf("data: csv: %s:%d: target column %s is empty", name, line, colName(target, names))
			}
			labels = append(labels, label)
		}
		return nil
	}
	if !header {
		if err := addRow(first, 1); err != nil {
			return Split{}, err
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Split{}, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if err := addRow(rec, line); err != nil {
			return Split{}, err
		}
	}
	n := len(x) / f
	if n == 0 {
		return Split{}, fmt.Errorf("data: csv: %s: no data rows after the header", name)
	}

	all := &Set{Name: strings.TrimSuffix(name, filepath.Ext(name)), Shape: []int{f}, X: x, X64: x64}
	if opts.Regression {
		all.Y, all.Y64, all.Outputs = y, y64, 1
	} else {
		all.ClassNames, all.Labels = classMapping(labels)
		all.Classes = len(all.ClassNames)
	}

	testIdx, trainIdx, err := splitRows(n, opts.TestFraction, opts.Seed)
	if err != nil {
		return Split{}, fmt.Errorf("data: csv: %s: %w", name, err)
	}
	sp := Split{Train: all.Subset(all.Name+"/train", trainIdx), Test: all.Subset(all.Name+"/test", testIdx)}
	if !opts.Raw {
		nm := FitNorm(sp.Train.X, f)
		if opts.Float64 {
			nm = FitNorm64(sp.Train.X64, f)
			sp.Train.Norm, sp.Test.Norm = nm, nm
			for _, s := range []*Set{sp.Train, sp.Test} {
				if len(s.X64) > 0 {
					nm.ApplyFloat64(s.X64)
				}
			}
		}
		for _, part := range []struct {
			s   *Set
			idx []int
		}{{sp.Train, trainIdx}, {sp.Test, testIdx}} {
			if len(part.s.X) == 0 {
				continue
			}
			nm.Apply(part.s.X)
			for k, v := range part.s.X {
				if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
					row, j := part.idx[k/f], k%f
					col := j
					if j >= target {
						col++ // the target column is not a feature
					}
					return Split{}, fmt.Errorf("data: csv: %s:%d: column %s: %g standardised with the training mean %g and deviation %g is %v, outside the float32 range; rescale the column or set Raw",
						name, lines[row], colName(col, names), all.X[row*f+j], nm.Mean[j], nm.Std[j], v)
				}
			}
		}
		sp.Train.Norm, sp.Test.Norm = nm, nm
	}
	return sp, nil
}

// targetColumn resolves the Target option against the first row.
func targetColumn(spec string, first []string, h Header) (int, error) {
	cols := len(first)
	if spec == "" {
		return cols - 1, nil
	}
	if i, err := strconv.Atoi(spec); err == nil {
		if i < 0 {
			i += cols
		}
		if i < 0 || i >= cols {
			return 0, fmt.Errorf("target column %s out of range for %d columns", spec, cols)
		}
		return i, nil
	}
	if h == HeaderAbsent {
		return 0, fmt.Errorf("target column %q given by name, but the file has no header", spec)
	}
	for j, name := range first {
		if strings.TrimSpace(name) == spec {
			return j, nil
		}
	}
	return 0, fmt.Errorf("no column named %q in the header %q; give a name from it or a 0-based index", spec, first)
}

// classMapping sorts the distinct labels (numerically when all are numbers)
// and returns them with each row's class id.
func classMapping(labels []string) (names []string, ids []int) {
	distinct := slices.Clone(labels)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	numeric := true
	vals := make(map[string]float64, len(distinct))
	for _, l := range distinct {
		v, ok := parseNumber(l)
		if !ok {
			numeric = false
			break
		}
		vals[l] = v
	}
	if numeric {
		slices.SortFunc(distinct, func(a, b string) int {
			// "1" and "1.0" are distinct labels of equal value: order by text.
			return cmp.Or(cmp.Compare(vals[a], vals[b]), strings.Compare(a, b))
		})
	}
	id := make(map[string]int, len(distinct))
	for k, l := range distinct {
		id[l] = k
	}
	ids = make([]int, len(labels))
	for i, l := range labels {
		ids[i] = id[l]
	}
	return distinct, ids
}

// splitRows draws round(frac·n) test rows at random (seeded) and returns the
// test and training row indices, each in increasing order. frac 0 means 0.2;
// a negative frac puts every row in training.
func splitRows(n int, frac float64, seed uint64) (test, train []int, err error) {
	if frac == 0 {
		frac = 0.2
	}
	if frac >= 1 || math.IsNaN(frac) {
		return nil, nil, fmt.Errorf("test fraction %v must be below 1", frac)
	}
	k := 0
	if frac > 0 {
		k = int(math.Round(frac * float64(n)))
	}
	if k >= n {
		return nil, nil, fmt.Errorf("test fraction %v of %d rows leaves no training row", frac, n)
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	shuffle(perm, rand.NewPCG(seed, splitStream))
	isTest := make([]bool, n)
	for _, i := range perm[:k] {
		isTest[i] = true
	}
	test, train = make([]int, 0, k), make([]int, 0, n-k)
	for i, t := range isTest {
		if t {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return test, train, nil
}

// splitStream is the PCG stream used for train/test splits, distinct from
// the streams of the Loader's epochs.
const splitStream = 0x5ec7_5b11_7000_0001

// parseNumber parses a field as a number that is finite in float32.
func parseNumber(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.Abs(v) > math.MaxFloat32 {
		return 0, false
	}
	return v, true
}

func colName(j int, names []string) string {
	if names != nil {
		return fmt.Sprintf("%d (%q)", j, strings.TrimSpace(names[j]))
	}
	return strconv.Itoa(j)
}

// csvErr turns a csv.ParseError (which carries the line) into this
// package's message.
func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("data: csv: %s:%d: %v: every row needs as many fields as the first", name, pe.Line, pe.Err)
		}
		return fmt.Errorf("data: csv: %s:%d: column %d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("data: csv: %s: %w", name, err)
}
