package plot

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkImage fails t unless path holds a non-empty image of the format its
// extension names: a PNG that decodes to exactly w×h pixels, or an SVG
// document.
func checkImage(t *testing.T, path string, w, h int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(data) == 0 {
		t.Fatalf("%s is empty", path)
	}
	switch filepath.Ext(path) {
	case ".png":
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: png.Decode: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("%s: got %d×%d pixels, want %d×%d", path, b.Dx(), b.Dy(), w, h)
		}
	case ".svg":
		head := strings.TrimSpace(string(data[:min(len(data), 200)]))
		if !strings.HasPrefix(head, "<?xml") && !strings.HasPrefix(head, "<svg") {
			t.Errorf("%s: does not start with an XML or SVG header: %q", path, head[:min(len(head), 40)])
		}
		if !strings.Contains(string(data), "</svg>") {
			t.Errorf("%s: no closing </svg>", path)
		}
	default:
		t.Fatalf("checkImage: unexpected extension in %s", path)
	}
	// No temporary file may be left behind by the atomic write.
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), filepath.Dir(path))
		}
	}
}

func steps(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

func TestSaveLines(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	x := steps(50)
	decay := make([]float64, len(x))
	for i := range decay {
		decay[i] = 2 * math.Exp(-0.1*x[i])
	}
	tests := []struct {
		name   string
		chart  Chart
		series []Series
		w, h   int
	}{
		{"default size", Chart{Title: "loss", XLabel: "step", YLabel: "loss"},
			[]Series{{Name: "train", X: x, Y: decay}}, defaultWidth, defaultHeight},
		{"custom size", Chart{Width: 321, Height: 123}, []Series{{Name: "a", X: x, Y: decay}}, 321, 123},
		{"log y", Chart{LogY: true}, []Series{{Name: "lr", X: x, Y: decay}}, defaultWidth, defaultHeight},
		{"several series, one unnamed", Chart{},
			[]Series{{Name: "a", X: x, Y: decay}, {Name: "", X: x, Y: x}, {Name: "c", X: []float64{1, 2}, Y: []float64{3, 4}}}, defaultWidth, defaultHeight},
		{"non-finite values skipped", Chart{},
			[]Series{{Name: "a", X: []float64{0, 1, 2, 3, nan}, Y: []float64{1, nan, inf, -inf, 5}}}, defaultWidth, defaultHeight},
		{"log y with non-positive values", Chart{LogY: true},
			[]Series{{Name: "a", X: []float64{0, 1, 2, 3}, Y: []float64{0, -1, 0.5, 2}}}, defaultWidth, defaultHeight},
		{"log y constant", Chart{LogY: true},
			[]Series{{Name: "a", X: []float64{0, 1}, Y: []float64{0.3, 0.3}}}, defaultWidth, defaultHeight},
		{"log y within one decade", Chart{LogY: true},
			[]Series{{Name: "a", X: []float64{0, 1}, Y: []float64{0.2, 0.5}}}, defaultWidth, defaultHeight},
		{"empty series beside a full one", Chart{},
			[]Series{{Name: "empty", X: nil, Y: nil}, {Name: "a", X: x, Y: decay}}, defaultWidth, defaultHeight},
		{"single point", Chart{}, []Series{{Name: "a", X: []float64{1}, Y: []float64{1}}}, defaultWidth, defaultHeight},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		for _, ext := range []string{".png", ".svg"} {
			t.Run(tc.name+ext, func(t *testing.T) {
				path := filepath.Join(dir, string(rune('a'+i))+ext)
				if err := SaveLines(path, tc.chart, tc.series...); err != nil {
					t.Fatalf("SaveLines(%s): %v", path, err)
				}
				checkImage(t, path, tc.w, tc.h)
			})
		}
	}
}

func TestSaveLinesNoData(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		chart  Chart
		series []Series
	}{
		{"no series", Chart{}, nil},
		{"empty series", Chart{}, []Series{{Name: "a", X: nil, Y: nil}}},
		{"all NaN", Chart{}, []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{nan, nan}}}},
		{"log y all non-positive", Chart{LogY: true}, []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{0, -3}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.png")
			err := SaveLines(path, tc.chart, tc.series...)
			if !errors.Is(err, ErrNoData) {
				t.Fatalf("SaveLines: got error %v, want one wrapping ErrNoData", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written despite the error (stat: %v)", err)
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	dir := t.TempDir()
	s := Series{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}
	for _, name := range []string{"x.jpg", "x", "x.pdf", "x.png.bak"} {
		path := filepath.Join(dir, name)
		err := SaveLines(path, Chart{}, s)
		if err == nil || !strings.Contains(err.Error(), ".png, .svg") {
			t.Errorf("SaveLines(%s): got error %v, want one listing .png, .svg", name, err)
		}
		err = SaveProbe(path, Probe{Alphas: []float64{0, 1}, Loss: []float64{1, 0}})
		if err == nil || !strings.Contains(err.Error(), ".png, .svg") {
			t.Errorf("SaveProbe(%s): got error %v, want one listing .png, .svg", name, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files written for unknown formats: %v", ents)
	}
	// Upper-case extensions are the same formats.
	if err := SaveLines(filepath.Join(dir, "X.PNG"), Chart{}, s); err != nil {
		t.Errorf("SaveLines(X.PNG): %v", err)
	}
}

func TestSizeLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.png")
	s := Series{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}
	if err := SaveLines(path, Chart{Width: maxSide + 1}, s); err == nil {
		t.Errorf("SaveLines with width %d: no error", maxSide+1)
	}
	mustPanic(t, "negative size", func() { SaveLines(path, Chart{Width: -1}, s) })
	mustPanic(t, "ragged series", func() { SaveLines(path, Chart{}, Series{Name: "a", X: []float64{1}}) })
	mustPanic(t, "ragged probe", func() { SaveProbe(path, Probe{Alphas: []float64{1}}) })
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
		} else if !strings.HasPrefix(r.(string), "plot: ") {
			t.Errorf("%s: panic %q lacks the package prefix", what, r)
		}
	}()
	f()
}

// TestParabola checks q(α) against values computed by hand for
// g0 = 1, d1 = −2, d2 = 4: q(α) = 1 − 2α + 2α², whose minimum α* =
// −d1/d2 = 0.5 has q = 0.5. The arithmetic is exact in float64.
func TestParabola(t *testing.T) {
	alphas := []float64{0, 0.25, 0.5, 1, 2}
	want := []float64{1, 0.625, 0.5, 1, 5}
	got := Parabola(nil, alphas, 1, -2, 4)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("q(%v) = %v, want %v", alphas[i], got[i], want[i])
		}
	}
	dst := make([]float64, len(alphas))
	if Parabola(dst, alphas, 1, -2, 4); dst[3] != 1 {
		t.Errorf("Parabola did not write dst: %v", dst)
	}
	mustPanic(t, "short dst", func() { Parabola(make([]float64, 1), alphas, 0, 0, 0) })
}

func TestSaveProbe(t *testing.T) {
	nan := math.NaN()
	alphas := make([]float64, 41)
	loss := make([]float64, len(alphas))
	for i := range alphas {
		a := 0.05 * float64(i)
		alphas[i] = a
		loss[i] = 1 - 2*a + 2*a*a + 0.3*a*a*a // a cubic, so the model is only locally right
	}
	par := Parabola(nil, alphas, 1, -2, 4)
	tests := []struct {
		name string
		p    Probe
	}{
		{"full", Probe{Alphas: alphas, Loss: loss, Parabola: par, AlphaStar: 0.5, AlphaApprox: 0.45, Title: "step 10"}},
		{"no approx", Probe{Alphas: alphas, Loss: loss, Parabola: par, AlphaStar: 0.5, AlphaApprox: nan}},
		{"loss only", Probe{Alphas: alphas, Loss: loss, AlphaStar: nan, AlphaApprox: nan}},
		{"alpha star off the grid", Probe{Alphas: alphas, Loss: loss, Parabola: par, AlphaStar: 7, AlphaApprox: nan}},
		{"concave parabola clipped", Probe{Alphas: alphas, Loss: loss,
			Parabola: Parabola(nil, alphas, 1, -2, -400), AlphaStar: nan, AlphaApprox: nan}},
		{"non-finite values", Probe{Alphas: []float64{0, 1, 2, nan}, Loss: []float64{1, nan, 3, 4},
			Parabola: []float64{1, math.Inf(1), 2, 2}, AlphaStar: math.Inf(1), AlphaApprox: 1}},
		{"flat loss", Probe{Alphas: []float64{0, 1}, Loss: []float64{2, 2}, AlphaStar: 0, AlphaApprox: nan}},
		{"small", Probe{Alphas: alphas, Loss: loss, Width: 200, Height: 150}},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		for _, ext := range []string{".png", ".svg"} {
			t.Run(tc.name+ext, func(t *testing.T) {
				path := filepath.Join(dir, string(rune('a'+i))+ext)
				if err := SaveProbe(path, tc.p); err != nil {
					t.Fatalf("SaveProbe(%s): %v", path, err)
				}
				w, h := tc.p.Width, tc.p.Height
				if w == 0 {
					w, h = defaultWidth, defaultHeight
				}
				checkImage(t, path, w, h)
			})
		}
	}
	path := filepath.Join(dir, "none.png")
	if err := SaveProbe(path, Probe{Alphas: []float64{0, 1}, Loss: []float64{nan, nan}}); !errors.Is(err, ErrNoData) {
		t.Errorf("SaveProbe with no finite loss: got %v, want ErrNoData", err)
	}
}

// TestOverwrite checks that saving over an existing chart replaces it.
func TestOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveLines(path, Chart{Width: 64, Height: 48}, Series{Name: "a", X: []float64{0, 1}, Y: []float64{0, 1}}); err != nil {
		t.Fatal(err)
	}
	checkImage(t, path, 64, 48)
}

// TestLogTicks checks the labelled ticks of the log axis against lists
// written by hand.
func TestLogTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0.2, 0.5, []string{"0.2", "0.5"}},
		{0.15, 9, []string{"0.2", "0.5", "1", "2", "5"}},
		{0.15, 30, []string{"1", "10"}},
		{1e-4, 1, []string{"0.0001", "0.001", "0.01", "0.1", "1"}},
		{2.5, 4.2, []string{"3", "4"}},
		{2.5, 2.9, []string{"2.5", "2.55", "2.6", "2.65", "2.7", "2.75", "2.8", "2.85", "2.9"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (logTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Value < tc.lo || tk.Value > tc.hi*(1+1e-9) {
				t.Errorf("Ticks(%v, %v): tick %v out of range", tc.lo, tc.hi, tk.Value)
			}
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("Ticks(%v, %v) labels = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}
