package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func readCSV(t *testing.T, text string, opts CSVOptions) Split {
	t.Helper()
	sp, err := ReadCSV(strings.NewReader(text), "t.csv", opts)
	if err != nil {
		t.Fatalf("ReadCSV(%q, %+v): %v", text, opts, err)
	}
	for _, s := range []*Set{sp.Train, sp.Test} {
		if err := s.Validate(); err != nil {
			t.Fatalf("ReadCSV(%q): %v", text, err)
		}
	}
	return sp
}

// rowsOf returns the rows of a raw (unstandardised) set whose first feature
// is an id, keyed by that id, as the slice [features…, target].
func rowsOf(s *Set) map[int][]float32 {
	rows := map[int][]float32{}
	f := s.Features()
	for i := range s.Len() {
		r := slices.Clone(s.X[i*f : (i+1)*f])
		if s.Labels != nil {
			r = append(r, float32(s.Labels[i]))
		} else {
			r = append(r, s.Y[i])
		}
		rows[int(r[0])] = r
	}
	return rows
}

func TestReadCSVHeaderAndTarget(t *testing.T) {
	noSplit := CSVOptions{TestFraction: -1, Raw: true}
	tests := []struct {
		name    string
		text    string
		opts    CSVOptions
		x       []float32
		classes []string
		labels  []int
	}{
		{"header detected", "a,b,c\n1,2,x\n3,4,y\n", noSplit,
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"no header: numeric features, text label", "1,2,x\n3,4,y\n", noSplit,
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"no header, all numeric", "1,2,0\n3,4,1\n", noSplit,
			[]float32{1, 2, 3, 4}, []string{"0", "1"}, []int{0, 1}},
		{"header forced absent", "1,2,x\n3,4,y\n", CSVOptions{TestFraction: -1, Raw: true, Header: HeaderAbsent},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"header forced present on numbers", "1,2,0\n3,4,1\n", CSVOptions{TestFraction: -1, Raw: true, Header: HeaderPresent},
			[]float32{3, 4}, []string{"1"}, []int{0}},
		{"target by name", "lab,a,b\nx,1,2\ny,3,4\n", CSVOptions{TestFraction: -1, Raw: true, Target: "lab"},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"target by index", "x,1,2\ny,3,4\n", CSVOptions{TestFraction: -1, Raw: true, Target: "0"},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"target by negative index", "1,x,2\n3,y,4\n", CSVOptions{TestFraction: -1, Raw: true, Target: "-2"},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"numeric labels sort by value", "1,10\n2,2\n3,1\n4,2\n", noSplit,
			[]float32{1, 2, 3, 4}, []string{"1", "2", "10"}, []int{2, 1, 0, 1}},
		{"text labels sort by string", "1,b\n2,a\n3,c\n4,a\n", noSplit,
			[]float32{1, 2, 3, 4}, []string{"a", "b", "c"}, []int{1, 0, 2, 0}},
		{"byte-order mark, target by name", "\ufeffa,b,c\nx,1,2\ny,3,4\n", CSVOptions{TestFraction: -1, Raw: true, Target: "a"},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
		{"semicolons, spaces, CRLF", "a; b; c\r\n1; 2; x\r\n3; 4; y\r\n", CSVOptions{TestFraction: -1, Raw: true, Comma: ';'},
			[]float32{1, 2, 3, 4}, []string{"x", "y"}, []int{0, 1}},
	}
	for _, tc := range tests {
		sp := readCSV(t, tc.text, tc.opts)
		s := sp.Train
		if !slices.Equal(s.X, tc.x) || !slices.Equal(s.ClassNames, tc.classes) || !slices.Equal(s.Labels, tc.labels) || s.Classes != len(tc.classes) {
			t.Errorf("%s: got X %v classes %q labels %v, want %v %q %v", tc.name, s.X, s.ClassNames, s.Labels, tc.x, tc.classes, tc.labels)
		}
		if sp.Test.Len() != 0 {
			t.Errorf("%s: %d test rows with a negative test fraction, want 0", tc.name, sp.Test.Len())
		}
	}
}

func TestReadCSVRegression(t *testing.T) {
	sp := readCSV(t, "x1,x2,y\n1,2,0.5\n3,4,-1.5e1\n", CSVOptions{Regression: true, TestFraction: -1, Raw: true})
	s := sp.Train
	if s.Outputs != 1 || s.Classes != 0 || !slices.Equal(s.Y, []float32{0.5, -15}) || !slices.Equal(s.X, []float32{1, 2, 3, 4}) {
		t.Errorf("got X %v Y %v outputs %d classes %d, want [1 2 3 4] [0.5 -15] 1 0", s.X, s.Y, s.Outputs, s.Classes)
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name, text string
		opts       CSVOptions
		want       []string
	}{
		{"empty", "", CSVOptions{}, []string{"t.csv", "empty file"}},
		{"header only", "a,b\n", CSVOptions{}, []string{"t.csv", "no data rows"}},
		{"one column", "a\n1\n", CSVOptions{}, []string{"t.csv:1", "need at least one feature"}},
		{"short row", "a,b,c\n1,2,x\n3,4,y\n5,6\n", CSVOptions{}, []string{"t.csv:4", "wrong number of fields"}},
		{"long row", "1,2,x\n3,4,5,y\n", CSVOptions{}, []string{"t.csv:2", "wrong number of fields"}},
		{"not a number", "a,b,c\n1,2,x\n3,oops,y\n", CSVOptions{}, []string{"t.csv:3", `column 1 ("b")`, `"oops" is not a finite number`}},
		{"not a number, no header", "1,2,x\n3,4,y\n3,,y\n", CSVOptions{}, []string{"t.csv:3", "column 1:", `"" is not`}},
		{"NaN", "1,2,x\nNaN,4,y\n", CSVOptions{}, []string{"t.csv:2", `"NaN"`}},
		{"overflows float32", "1,2,x\n1e39,4,y\n", CSVOptions{}, []string{"t.csv:2", `"1e39"`}},
		{"empty label", "1,2,x\n3,4, \n", CSVOptions{}, []string{"t.csv:2", "target column 2 is empty"}},
		{"regression label", "1,2,x\n", CSVOptions{Regression: true}, []string{"t.csv:1", `target column 2: "x" is not a finite number`}},
		{"bad quote", "1,2,x\n3,\"4,y\n", CSVOptions{}, []string{"t.csv:2"}},
		{"unknown name", "a,b\n1,2\n", CSVOptions{Target: "z"}, []string{"t.csv:1", `no column named "z"`}},
		{"name without header", "a,b\n1,2\n", CSVOptions{Target: "a", Header: HeaderAbsent}, []string{"has no header"}},
		{"index out of range", "1,2\n", CSVOptions{Target: "2"}, []string{"target column 2 out of range for 2 columns"}},
		{"test fraction 1", "1,x\n2,y\n", CSVOptions{TestFraction: 1}, []string{"must be below 1"}},
		{"no training row", "1,x\n2,y\n", CSVOptions{TestFraction: 0.9}, []string{"leaves no training row"}},
	}
	for _, tc := range tests {
		_, err := ReadCSV(strings.NewReader(tc.text), "t.csv", tc.opts)
		if err == nil {
			t.Errorf("%s: ReadCSV(%q) succeeded, want an error", tc.name, tc.text)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
}

func TestReadCSVSplit(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,v,label\n")
	const n = 50
	for i := range n {
		b.WriteString(strings.Join([]string{itoa(i), itoa(i * i % 7), []string{"a", "b"}[i%2]}, ",") + "\n")
	}
	text := b.String()
	split := func(seed uint64) (train, test []int) {
		sp := readCSV(t, text, CSVOptions{Seed: seed, TestFraction: 0.3, Raw: true})
		for _, r := range rowsOf(sp.Train) {
			train = append(train, int(r[0]))
		}
		for _, r := range rowsOf(sp.Test) {
			test = append(test, int(r[0]))
		}
		slices.Sort(train)
		slices.Sort(test)
		return train, test
	}
	train, test := split(1)
	if len(test) != 15 || len(train) != 35 {
		t.Fatalf("30%% of %d rows: got %d test and %d train rows, want 15 and 35", n, len(test), len(train))
	}
	all := slices.Concat(train, test)
	slices.Sort(all)
	for i, id := range all {
		if id != i {
			t.Fatalf("train ∪ test = %v, want every id 0…%d exactly once", all, n-1)
		}
	}
	if train2, test2 := split(1); !slices.Equal(train, train2) || !slices.Equal(test, test2) {
		t.Errorf("seed 1 twice gave different splits: test %v and %v", test, test2)
	}
	if _, test3 := split(2); slices.Equal(test, test3) {
		t.Errorf("seeds 1 and 2 gave the same test rows %v", test)
	}
	// Rows keep their file order inside each split.
	sp := readCSV(t, text, CSVOptions{Seed: 1, TestFraction: 0.3, Raw: true})
	for _, s := range []*Set{sp.Train, sp.Test} {
		for i := 1; i < s.Len(); i++ {
			if s.X[2*i] <= s.X[2*(i-1)] {
				t.Fatalf("%s: id %v follows id %v", s.Name, s.X[2*i], s.X[2*(i-1)])
			}
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReadCSVStandardisesWithTrainingStatistics reads the same file raw and
// standardised (same seed, hence the same split) and checks every
// standardised value against (raw − mean)/sd, with mean and sd computed here
// in float64 from the raw training rows only.
func TestReadCSVStandardisesWithTrainingStatistics(t *testing.T) {
	// The test rows are far from the training rows (ids ≥ 100 get large
	// values) so that statistics that included them would be visibly off.
	var b strings.Builder
	b.WriteString("id,x,const,label\n")
	for i := range 40 {
		x := float64(i%5) + 0.25*float64(i%3)
		b.WriteString(itoa(i) + "," + ftoa(x) + ",7,c" + itoa(i%3) + "\n")
	}
	opts := CSVOptions{Seed: 3, TestFraction: 0.25}
	raw := opts
	raw.Raw = true
	rs := readCSV(t, b.String(), raw)
	ss := readCSV(t, b.String(), opts)
	if rs.Train.Norm != nil || ss.Train.Norm == nil || ss.Train.Norm != ss.Test.Norm {
		t.Fatalf("Norm: raw %v, standardised train %v test %v; want nil, then one shared Norm", rs.Train.Norm, ss.Train.Norm, ss.Test.Norm)
	}
	f := 3
	mean, sd := make([]float64, f), make([]float64, f)
	n := float64(rs.Train.Len())
	for i := range rs.Train.Len() {
		for j := range f {
			mean[j] += float64(rs.Train.X[i*f+j]) / n
		}
	}
	for i := range rs.Train.Len() {
		for j := range f {
			d := float64(rs.Train.X[i*f+j]) - mean[j]
			sd[j] += d * d / n
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j])
	}
	sd[2] = 1 // the constant column is centred only
	// float32 inputs and float32 arithmetic in Apply: a few ulps of values
	// of order 1.
	const tol = 1e-5
	for _, c := range []struct{ raw, std *Set }{{rs.Train, ss.Train}, {rs.Test, ss.Test}} {
		for i := range c.raw.X {
			j := i % f
			want := (float64(c.raw.X[i]) - mean[j]) / sd[j]
			if got := float64(c.std.X[i]); math.Abs(got-want) > tol {
				t.Fatalf("%s: feature %d of row %d is %v, want (%v − %v)/%v = %v", c.std.Name, j, i/f, got, c.raw.X[i], mean[j], sd[j], want)
			}
		}
		if !slices.Equal(c.raw.Labels, c.std.Labels) {
			t.Fatalf("%s: labels changed by standardisation", c.std.Name)
		}
	}
	// On the training rows the standardised features have mean 0 and sd 1.
	for j := range 2 {
		var m, v float64
		for i := range ss.Train.Len() {
			m += float64(ss.Train.X[i*f+j]) / n
		}
		for i := range ss.Train.Len() {
			d := float64(ss.Train.X[i*f+j]) - m
			v += d * d / n
		}
		if math.Abs(m) > 1e-6 || math.Abs(v-1) > 1e-5 {
			t.Errorf("standardised training feature %d: mean %v variance %v, want 0 and 1", j, m, v)
		}
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// nearMaxCSV holds a feature a, a, −a, a with a = 3.4e38, close to
// MaxFloat32: its deviations from the mean a/2 are a/2 and −3a/2, whose
// float32 difference overflows.
const nearMaxCSV = "3.4e38,a\n3.4e38,b\n-3.4e38,a\n3.4e38,b\n"

func TestReadCSVStandardisesNearMaxFloat32(t *testing.T) {
	// For a, a, −a, a the mean is a/2 and the population deviation a·√3/2,
	// so the standardised column is 1/√3, 1/√3, −√3, 1/√3 whatever a is.
	// Mean and Std are rounded to float32 and the quotient once more: a
	// relative tolerance of 1e-6 is a few float32 ulps.
	const tol = 1e-6
	sp := readCSV(t, nearMaxCSV, CSVOptions{TestFraction: -1}) // also runs Validate
	r := 1 / math.Sqrt(3)
	want := []float64{r, r, -math.Sqrt(3), r}
	for i, w := range want {
		if got := float64(sp.Train.X[i]); math.Abs(got-w) > tol*math.Abs(w) {
			t.Errorf("row %d of %q: got %v, want %v", i, nearMaxCSV, got, w)
		}
	}
}

func TestReadCSVStandardisedOverflowIsAnError(t *testing.T) {
	// Five rows, one of them drawn for the test set: every training row
	// holds −3.4e38, so the feature is constant there (Std 1, Mean −3.4e38)
	// and the test row's 3.4e38 standardises to 6.8e38, beyond MaxFloat32.
	const seed = 3
	test, _, err := splitRows(5, 0.2, seed)
	if err != nil || len(test) != 1 {
		t.Fatalf("splitRows(5, 0.2, %d) = %v, %v; want one test row", seed, test, err)
	}
	var b strings.Builder
	b.WriteString("id,size,label\n")
	for i := range 5 {
		v := "-3.4e38"
		if i == test[0] {
			v = "3.4e38"
		}
		fmt.Fprintf(&b, "1,%s,c%d\n", v, i%2)
	}
	_, err = ReadCSV(strings.NewReader(b.String()), "big.csv", CSVOptions{TestFraction: 0.2, Seed: seed})
	line := test[0] + 2 // 1-based, after the header
	for _, w := range []string{fmt.Sprintf("big.csv:%d:", line), `column 1 ("size")`, "outside the float32 range", "Raw"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ReadCSV(%q): error %v, want one containing %q", b.String(), err, w)
		}
	}
	// Raw keeps the values, which are finite.
	if _, err := ReadCSV(strings.NewReader(b.String()), "big.csv", CSVOptions{TestFraction: 0.2, Seed: seed, Raw: true}); err != nil {
		t.Errorf("Raw: %v", err)
	}
}

func TestLoadCSVFile(t *testing.T) {
	sp, err := LoadCSV("testdata/small.csv", CSVOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len()+sp.Test.Len() != 10 || sp.Test.Len() != 2 || sp.Train.Features() != 3 {
		t.Errorf("got %d train and %d test rows of %d features, want 8, 2 and 3", sp.Train.Len(), sp.Test.Len(), sp.Train.Features())
	}
	if !slices.Equal(sp.Train.ClassNames, []string{"setosa", "versicolor", "virginica"}) || sp.Train.Name != "small/train" {
		t.Errorf("got classes %q name %q, want setosa, versicolor, virginica and small/train", sp.Train.ClassNames, sp.Train.Name)
	}
	if _, err := LoadCSV("testdata/absent.csv", CSVOptions{}); err == nil || !strings.Contains(err.Error(), "absent.csv") {
		t.Errorf("missing file: error %v, want one naming absent.csv", err)
	}
}

// FuzzReadCSV feeds arbitrary text to the CSV reader in both modes: it must
// return an error or two sets that pass Validate, and never panic.
func FuzzReadCSV(f *testing.F) {
	f.Add("a,b,c\n1,2,x\n3,4,y\n", false, "")
	f.Add("1,2,3\n4,5,6\n7,8,9\n", true, "0")
	f.Add("x;y\n\"1\";2\n", false, "y")
	f.Add("1,2\n3\n", false, "-1")
	f.Add(nearMaxCSV, false, "")
	f.Add("-3.4e38,1\n-3.4e38,2\n3.4e38,3\n-3.4e38,4\n-3.4e38,5\n", true, "")
	f.Fuzz(func(t *testing.T, text string, regression bool, target string) {
		sp, err := ReadCSV(strings.NewReader(text), "fuzz.csv", CSVOptions{Regression: regression, Target: target})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: csv: fuzz.csv") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, s := range []*Set{sp.Train, sp.Test} {
			if s.Len() == 0 && s == sp.Test {
				continue
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("ReadCSV(%q) returned an invalid set: %v", text, err)
			}
		}
		if sp.Train.Len() == 0 {
			t.Fatalf("ReadCSV(%q) returned no training rows", text)
		}
	})
}
