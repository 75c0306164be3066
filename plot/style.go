package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// palette holds 15 colours that stay apart on white and from each other:
// nine of Tableau 10 (its grey is too near its purple and brown) and six
// darker ones. Series i is drawn in
// palette[i mod 15], so up to 15 series never share a colour.
var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
	{0x00, 0x00, 0x00, 0xff}, // black
	{0x00, 0x00, 0x80, 0xff}, // navy
	{0xc0, 0x00, 0xc0, 0xff}, // magenta
	{0x00, 0x64, 0x00, 0xff}, // dark green
	{0x60, 0x60, 0x00, 0xff}, // dark olive
	{0x80, 0x00, 0x40, 0xff}, // maroon
}

// dashes holds 4 dash patterns (in points): solid, dashed, dotted and
// dash-dotted. Series i gets dashes[i mod 4]; as 4 and 15 are coprime, the
// pair (colour, dash) repeats only after 60 series, and neighbours in the
// list differ in both.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)},
}

// Line widths: a normal series, a Heavy one and a Faint one.
var (
	normalWidth = vg.Points(1.4)
	heavyWidth  = vg.Points(2.8)
	faintWidth  = vg.Points(0.8)
)

// faintAlpha is the opacity of a Faint series.
const faintAlpha = 0.3

// fade returns c at opacity a, premultiplied as color.RGBA wants.
func fade(c color.RGBA, a float64) color.RGBA {
	f := func(v uint8) uint8 { return uint8(math.Round(float64(v) * a)) }
	return color.RGBA{f(c.R), f(c.G), f(c.B), f(c.A)}
}

// roundTicks marks a linear axis at round values: major, labelled ticks at
// the multiples of a step of 1, 2 or 5 times a power of ten, chosen so that
// there are about five to ten of them, and minor ticks between them.
// (gonum's default ticks may step by other values, such as 120, which label
// an axis 40, 160, 280.)
type roundTicks struct{}

func (roundTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []gplot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	step, minor := roundStep(hi - lo)
	exp := int(math.Floor(math.Log10(step)))
	decimals := max(0, -exp)
	var ticks []gplot.Tick
	first := math.Ceil(lo/minor - 1e-9)
	for k := first; k*minor <= hi*(1+1e-12)+1e-300; k++ {
		v := k * minor
		t := gplot.Tick{Value: v}
		if r := math.Round(v / step); math.Abs(v/step-r) < 1e-6 {
			t.Value = r * step
			t.Label = strconv.FormatFloat(t.Value, 'f', decimals, 64)
			if strings.Contains(t.Label, ".") {
				t.Label = strings.TrimRight(strings.TrimRight(t.Label, "0"), ".")
			}
			if t.Label == "-0" {
				t.Label = "0"
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// roundStep returns the major tick step for a range of width w, the
// smallest of 1, 2, 5 × 10^k giving at most 8 intervals, and the minor step
// (a fifth of it; a quarter for a step of 2 × 10^k).
func roundStep(w float64) (step, minor float64) {
	mag := math.Pow(10, math.Floor(math.Log10(w/8)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; w/step <= 8 {
			if m == 2 {
				return step, step / 4
			}
			return step, step / 5
		}
	}
	return step, step / 5
}
