package train

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/genopt/gen/data"
)

// checkData refuses a data set that cannot train what the run asks for,
// with the fix: fewer than two rows, a classification with a single class,
// or a classification whose labels are numbers of which so many are
// distinct (or fractional) that the target is evidently a quantity to
// regress on, not a set of classes. Only files (csv:PATH) are checked; the
// built-in sets are known to be sound.
func checkData(cfg Config, split data.Split) error {
	if !strings.HasPrefix(cfg.Data, "csv:") {
		return nil
	}
	tr := split.Train
	n := tr.Len() + split.Test.Len()
	if n < 2 {
		return fmt.Errorf("train: --data %s has %d data row(s); training needs at least 2 (and a test set more): add rows", cfg.Data, n)
	}
	if !tr.Classification() {
		return nil
	}
	target := "the target column"
	if cfg.Target != "" {
		target = "target column " + cfg.Target
	}
	names := tr.ClassNames
	if len(names) == 1 {
		return fmt.Errorf("train: --data %s: %s holds a single class (%q) in all %d rows: there is nothing to classify; "+
			"if the target is a quantity use --task regression, else choose another --target", cfg.Data, target, names[0], n)
	}
	numeric, fractional := true, 0
	var examples []string
	for _, s := range names {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			numeric = false
			break
		}
		if v != math.Trunc(v) {
			fractional++
			if len(examples) < 3 {
				examples = append(examples, s)
			}
		}
	}
	if !numeric {
		return nil
	}
	k := len(names)
	switch {
	case fractional > 0 && k > 10:
		return fmt.Errorf("train: --data %s: %s holds %d distinct numbers, %d of them fractional (such as %s), which a classification takes as %d classes: "+
			"it is a quantity, not a label; use --task regression (or, if these really are class names, make them non-numeric)",
			cfg.Data, target, k, fractional, strings.Join(examples, ", "), k)
	case k > 10 && 2*k > n:
		return fmt.Errorf("train: --data %s: %s holds %d distinct numbers in %d rows, which a classification takes as %d classes of about one row each: "+
			"nothing can be learned per class; if the target is a quantity use --task regression, else merge classes or add rows",
			cfg.Data, target, k, n, k)
	}
	return nil
}
