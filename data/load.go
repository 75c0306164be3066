package data

import (
	"fmt"
	"strings"
)

// Options configures Load: one options struct per source; only the one the
// spec selects is used. The zero value uses every source's defaults.
type Options struct {
	MNIST     MNISTOptions
	CSV       CSVOptions
	Synthetic SyntheticOptions
	Teacher   TeacherOptions
	Text      TextOptions
}

// Specs returns the data-set specs Load accepts, for help texts.
func Specs() []string {
	return []string{"mnist", "csv:PATH", "synthetic", "teacher", "text", "text:PATH"}
}

// Load returns the data set a spec names:
//
//	mnist       LoadMNIST(opts.MNIST)
//	csv:PATH    LoadCSV(PATH, opts.CSV)
//	synthetic   Synthetic(opts.Synthetic)
//	teacher     Teacher(opts.Teacher)
//	text        LoadText("", opts.Text)   (Newton's Opticks from GOROOT)
//	text:PATH   LoadText(PATH, opts.Text)
//
// An unknown spec is an error listing the valid ones.
func Load(spec string, opts Options) (Split, error) {
	kind, path, hasPath := strings.Cut(spec, ":")
	switch {
	case kind == "mnist" && !hasPath:
		return LoadMNIST(opts.MNIST)
	case kind == "csv" && path != "":
		return LoadCSV(path, opts.CSV)
	case kind == "synthetic" && !hasPath:
		sp, _, err := Synthetic(opts.Synthetic)
		return sp, err
	case kind == "teacher" && !hasPath:
		sp, _, err := Teacher(opts.Teacher)
		return sp, err
	case kind == "text" && !hasPath:
		return LoadText("", opts.Text)
	case kind == "text" && path != "":
		return LoadText(path, opts.Text)
	}
	return Split{}, fmt.Errorf("data: unknown data set %q; valid: %s", spec, strings.Join(Specs(), ", "))
}
