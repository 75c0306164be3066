package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Degenerate data is refused before training, with the fix in the message:
// one row, one class, and a numeric target taken as hundreds of classes.
func TestDegenerateDataIsRefused(t *testing.T) {
	var floats, ints, fine strings.Builder
	floats.WriteString("a,price\n")
	ints.WriteString("a,age\n")
	fine.WriteString("a,digit\n")
	for i := range 200 {
		fmt.Fprintf(&floats, "%d,%g\n", i, 10+float64(i)*0.37)
		fmt.Fprintf(&ints, "%d,%d\n", i, i)
		fmt.Fprintf(&fine, "%d,%d\n", i, i%10)
	}
	cases := []struct {
		name, csv, task, want string
	}{
		{"one row", "a,y\n1,x\n", "", "1 data row(s)"},
		{"one class", "a,y\n1,x\n2,x\n3,x\n4,x\n5,x\n", "", `single class ("x") in all 5 rows`},
		{"fractional numbers", floats.String(), "", "use --task regression"},
		{"a class per row", ints.String(), "", "200 distinct numbers in 200 rows"},
		{"one row, regression", "a,y\n1,2\n", "regression", "1 data row(s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.csv")
			os.WriteFile(path, []byte(c.csv), 0o644)
			cfg := Config{Data: "csv:" + path, Task: c.task, Hidden: []int{4}, Steps: 2, Batch: 4}
			dir := filepath.Join(t.TempDir(), "run")
			_, err := Run(context.Background(), cfg, dir, Hooks{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s: %v; want an error containing %q", c.name, err, c.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s: the refused run created its directory", c.name)
			}
		})
	}
	// The same numbers as a regression, and ten integer classes, train.
	for _, c := range []struct{ csv, task string }{{floats.String(), "regression"}, {fine.String(), ""}} {
		path := filepath.Join(t.TempDir(), "d.csv")
		os.WriteFile(path, []byte(c.csv), 0o644)
		cfg := Config{Data: "csv:" + path, Task: c.task, Hidden: []int{4}, Steps: 2, Batch: 4}
		if _, err := Run(context.Background(), cfg, filepath.Join(t.TempDir(), "run"), Hooks{}); err != nil {
			t.Errorf("task %q: %v", c.task, err)
		}
	}
}
