package plot

import (
	"fmt"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Series is one named curve: the points (X[i], Y[i]). X and Y must have the
// same length. Points with a non-finite coordinate are skipped when drawn.
type Series struct {
	Name string
	X, Y []float64
	// Heavy draws the line twice as wide, to pick out some series among many
	// (default false: normal width).
	Heavy bool
	// Faint draws the series thin and at 30 % opacity behind the others, in
	// the colour of the next series that is not faint: the raw values under
	// their smoothed curve. A faint series takes no colour or dash of its own
	// (default false).
	Faint bool
	// Style, when positive, picks colour and dash number Style−1 instead of
	// the series' position among those not faint, so that a series can keep
	// its look across charts that list different series or in another order
	// (default 0: by position).
	Style int
}

// Chart describes a line chart. The zero value is an untitled, unlabelled
// 800×500-pixel chart with linear axes.
type Chart struct {
	// Title is drawn above the chart; empty for none.
	Title string
	// XLabel and YLabel name the axes (for example "step" and "loss");
	// empty for none.
	XLabel, YLabel string
	// LogY draws the Y axis on a base-10 logarithmic scale, the natural one
	// for losses and learning rates spanning decades. Points with Y ≤ 0
	// cannot be placed on it and are skipped. Default false (linear).
	LogY bool
	// Width and Height are the image size in pixels; zero means 800 and 500.
	Width, Height int
	// LegendBeside puts the legend to the right of the plotting area, where
	// it cannot hide a curve, which suits many series; default false: inside
	// the plotting area, at the top right.
	LegendBeside bool
}

// SaveLines draws the series as lines on one chart and writes it to path,
// atomically, as PNG or SVG according to the extension of path.
//
// Each series that is not Faint gets its own colour and dash pattern, in
// order: 15 colours and 4 dash patterns, so no two of the first 15 series
// share a colour and neighbours differ in both. A series has a legend entry
// with its name (an unnamed series has none). Axes on a linear scale are
// marked at round values (multiples of 1, 2 or 5 × 10^k). NaN and ±Inf values, and with LogY
// values Y ≤ 0, are skipped; a series left with no point is omitted. If no
// point is left in any series, SaveLines writes nothing and returns an error
// wrapping ErrNoData.
//
// It panics if a series has different numbers of X and Y values, or the
// size is negative.
func SaveLines(path string, c Chart, series ...Series) error {
	const op = "SaveLines"
	ext, err := format(op, path)
	if err != nil {
		return err
	}
	w, h, err := size(op, c.Width, c.Height)
	if err != nil {
		return err
	}
	p := gplot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Add(plotter.NewGrid())

	lo, hi := math.Inf(1), math.Inf(-1) // range of the drawn Y values
	drawn := 0
	legend := gplot.NewLegend()
	var faint, lines []*plotter.Line // faint lines are added first: behind the rest
	var pending []*plotter.Line      // faint lines waiting for the next series' colour
	k := 0                           // index of the next series that is not faint
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			panic(fmt.Sprintf("plot: %s: series %d (%q) has %d X values and %d Y values", op, i, s.Name, len(s.X), len(s.Y)))
		}
		xys := finitePoints(s.X, s.Y, c.LogY)
		var l *plotter.Line
		if len(xys) > 0 {
			var err error
			if l, err = plotter.NewLine(xys); err != nil { // unreachable: finitePoints keeps finite values only
				return fmt.Errorf("plot: %s: %s: series %q: %w", op, path, s.Name, err)
			}
		}
		if s.Faint {
			if l != nil {
				l.Width = faintWidth
				pending = append(pending, l)
				faint = append(faint, l)
			}
		} else {
			// Every series that is not faint takes the next colour and dash,
			// drawn or not, so that a series keeps its style across charts.
			style := k
			if s.Style > 0 {
				style = s.Style - 1
			}
			col := palette[style%len(palette)]
			for _, f := range pending {
				f.Color = fade(col, faintAlpha)
			}
			pending = pending[:0]
			if l != nil {
				l.Color = col
				l.Dashes = dashes[style%len(dashes)]
				l.Width = normalWidth
				if s.Heavy {
					l.Width = heavyWidth
				}
				lines = append(lines, l)
			}
			k++
		}
		if l == nil {
			continue
		}
		if s.Name != "" {
			legend.Add(s.Name, l)
		}
		for _, q := range xys {
			lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
		}
		drawn++
	}
	for _, f := range pending { // faint series with none after them
		f.Color = fade(palette[k%len(palette)], faintAlpha)
	}
	for _, l := range append(faint, lines...) {
		p.Add(l)
	}
	if drawn == 0 {
		return fmt.Errorf("plot: %s: %s: %d series: %w", op, path, len(series), ErrNoData)
	}
	p.X.Tick.Marker = roundTicks{}
	if c.LogY {
		setLogY(p, lo, hi)
	} else {
		p.Y.Tick.Marker = roundTicks{}
	}
	var beside *gplot.Legend
	if c.LegendBeside {
		legend.Top, legend.Left = true, true
		beside = &legend
	} else {
		legend.Top = true
		p.Legend = legend
	}
	data, err := renderBeside(p, beside, w, h, ext)
	if err != nil {
		return fmt.Errorf("plot: %s: %s: %w", op, path, err)
	}
	return writeAtomic(path, data)
}

// finitePoints returns the points (x[i], y[i]) whose coordinates are both
// finite, and, when positiveY is set, whose y is greater than zero.
func finitePoints(x, y []float64, positiveY bool) plotter.XYs {
	xys := make(plotter.XYs, 0, len(x))
	for i := range x {
		if !isFinite(x[i]) || !isFinite(y[i]) || (positiveY && y[i] <= 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: x[i], Y: y[i]})
	}
	return xys
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// setLogY puts the Y axis of p on a log scale covering [lo, hi] (both > 0),
// widened to a factor of 2 either way when the range is a single value so
// the scale stays defined.
func setLogY(p *gplot.Plot, lo, hi float64) {
	if lo == hi {
		lo, hi = lo/2, hi*2
	}
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = lo, hi
}

// logTicks marks a base-10 log axis: a major, labelled tick at every power
// of ten and minor ticks at 2…9 times it. When the range spans less than two
// decades the ticks at 2 and 5 are labelled too, so a short range still has
// readable labels, and a range holding fewer than two of those has every
// multiple labelled (or, within a single step, round linear ticks). (gonum's LogTicks labels powers of ten only, which leaves
// a range inside one decade without any label.)
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	first := math.Floor(math.Log10(lo))
	last := math.Ceil(math.Log10(hi))
	short := math.Log10(hi/lo) < 2
	var ticks []gplot.Tick
	for e := first; e <= last; e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := base * float64(m)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := gplot.Tick{Value: v}
			if m == 1 || (short && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled >= 2 {
		return ticks
	}
	// A range inside a decade that holds fewer than two of 1, 2 and 5:
	// label every multiple there is, or, with fewer than two of those too,
	// mark it at round linear values, so the axis always has a scale.
	n := 0
	for i := range ticks {
		ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 3, 64)
		n++
	}
	if n >= 2 {
		return ticks
	}
	return roundTicks{}.Ticks(lo, hi)
}
