package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Probe is one line probe of the generalized Newton's method: the loss
// along the update direction u from the parameters θ,
//
//	g(α) = f(θ − α·u),
//
// sampled at the learning rates Alphas, next to the second-order model
//
//	q(α) = g(0) + g'(0)·α + ½·g''(0)·α²
//
// on the same grid (see Parabola), and the learning rates the method picks:
// α*, the minimiser of q (Bu & Xu, arXiv:2407.02772, eq. (3.1)), and the
// estimate of the paper's backpropagation-free scheme, which fits the
// parabola through three loss values. Shapes: Loss and Parabola have len(Alphas) values;
// Parabola may be nil to draw the loss alone.
type Probe struct {
	// Alphas is the grid of learning rates α, usually increasing from 0.
	Alphas []float64
	// Loss holds g(α) at each grid point.
	Loss []float64
	// Parabola holds q(α) at each grid point; nil for none.
	Parabola []float64
	// AlphaStar is α* = −g'(0)/g''(0), the minimiser of q, drawn as a
	// vertical line. NaN means absent (nothing is drawn). Note that the
	// zero value 0 is a real learning rate and is drawn.
	AlphaStar float64
	// AlphaApprox is the approximate-GeN estimate (from three loss values),
	// drawn as a dotted vertical line; NaN means absent.
	AlphaApprox float64
	// Title is drawn above the chart; empty for none.
	Title string
	// Width and Height are the image size in pixels; zero means 800 and 500.
	Width, Height int
}

// Parabola writes the second-order model of the line loss,
//
//	q(α) = g0 + d1·α + ½·d2·α²        with g0 = g(0), d1 = g'(0), d2 = g''(0),
//
// at each α of alphas into dst and returns dst. If dst is nil a new slice is
// allocated; otherwise it must have len(alphas) elements. Along g(α) =
// f(θ − α·u), d1 = −∇f·u and d2 = uᵀHu.
func Parabola(dst, alphas []float64, g0, d1, d2 float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(alphas))
	}
	if len(dst) != len(alphas) {
		panic(fmt.Sprintf("plot: Parabola: dst has %d elements, alphas %d", len(dst), len(alphas)))
	}
	for i, a := range alphas {
		dst[i] = g0 + d1*a + 0.5*d2*a*a
	}
	return dst
}

// SaveProbe draws the probe p and writes it to path, atomically, as PNG or
// SVG according to the extension of path.
//
// The loss is a solid line, the parabola a dashed line, α* a vertical line
// and the approximate estimate a dotted vertical line, each with a legend
// entry. The Y range covers the loss and the part of the parabola within one
// loss span (max − min of the loss) of the loss range, plus a 5% margin; the
// rest of the parabola is clipped, so a steep or concave model does not
// flatten the loss curve it is drawn against. The X range covers the grid
// and both marked learning rates.
//
// NaN and ±Inf values are skipped. If no finite loss point is left,
// SaveProbe writes nothing and returns an error wrapping ErrNoData.
// It panics if Loss or a non-nil Parabola differs in length from Alphas,
// or the size is negative.
func SaveProbe(path string, p Probe) error {
	const op = "SaveProbe"
	if len(p.Loss) != len(p.Alphas) {
		panic(fmt.Sprintf("plot: %s: %d loss values for %d learning rates", op, len(p.Loss), len(p.Alphas)))
	}
	if p.Parabola != nil && len(p.Parabola) != len(p.Alphas) {
		panic(fmt.Sprintf("plot: %s: %d parabola values for %d learning rates", op, len(p.Parabola), len(p.Alphas)))
	}
	ext, err := format(op, path)
	if err != nil {
		return err
	}
	w, h, err := size(op, p.Width, p.Height)
	if err != nil {
		return err
	}
	loss := finitePoints(p.Alphas, p.Loss, false)
	if len(loss) == 0 {
		return fmt.Errorf("plot: %s: %s: %d loss values: %w", op, path, len(p.Loss), ErrNoData)
	}
	var par plotter.XYs
	if p.Parabola != nil {
		par = finitePoints(p.Alphas, p.Parabola, false)
	}
	ymin, ymax := yRange(loss, par)

	pl := gplot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = "learning rate α"
	pl.Y.Label.Text = "loss g(α) = f(θ − α·u)"
	pl.Add(plotter.NewGrid())

	l, err := plotter.NewLine(loss)
	if err != nil { // unreachable: finite points only
		return fmt.Errorf("plot: %s: %s: %w", op, path, err)
	}
	l.Color = plotutil.Color(0)
	l.Width = vg.Points(2)
	pl.Add(l)
	pl.Legend.Add("loss g(α)", l)

	if len(par) > 0 {
		q, err := plotter.NewLine(par)
		if err != nil {
			return fmt.Errorf("plot: %s: %s: %w", op, path, err)
		}
		q.Color = plotutil.Color(1)
		q.Width = vg.Points(1.5)
		q.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		pl.Add(q)
		pl.Legend.Add("second-order model", q)
	}

	marks := []struct {
		alpha  float64
		name   string
		color  int
		dashes []vg.Length
	}{
		{p.AlphaStar, "α* = " + fmtAlpha(p.AlphaStar), 2, nil},
		{p.AlphaApprox, "approximate α = " + fmtAlpha(p.AlphaApprox), 3, []vg.Length{vg.Points(2), vg.Points(2)}},
	}
	for _, m := range marks {
		if !isFinite(m.alpha) {
			continue
		}
		v, err := plotter.NewLine(plotter.XYs{{X: m.alpha, Y: ymin}, {X: m.alpha, Y: ymax}})
		if err != nil {
			return fmt.Errorf("plot: %s: %s: %w", op, path, err)
		}
		v.Color = plotutil.Color(m.color)
		v.Width = vg.Points(1.5)
		v.Dashes = m.dashes
		pl.Add(v)
		pl.Legend.Add(m.name, v)
	}
	pl.Y.Min, pl.Y.Max = ymin, ymax
	pl.Legend.Top, pl.Legend.Left = true, true

	data, err := render(pl, w, h, ext)
	if err != nil {
		return fmt.Errorf("plot: %s: %s: %w", op, path, err)
	}
	return writeAtomic(path, data)
}

func fmtAlpha(a float64) string { return fmt.Sprintf("%.3g", a) }

// yRange returns the Y range of the probe figure: the hull of the loss
// values and of the parabola values within one loss span of the loss range,
// padded by 5% of its width on either side (by 10% of the magnitude when
// the hull is a single value, or by 1 for a zero loss).
func yRange(loss, par plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, q := range loss {
		lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
	}
	span := hi - lo
	llo, lhi := lo-span, hi+span
	for _, q := range par {
		if q.Y >= llo && q.Y <= lhi {
			lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
		}
	}
	pad := 0.05 * (hi - lo)
	if pad == 0 {
		pad = 0.1 * math.Abs(hi)
		if pad == 0 {
			pad = 1
		}
	}
	return lo - pad, hi + pad
}
