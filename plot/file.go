package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/genopt/gen/internal/atomicfile"
)

// formats lists the file extensions the package writes, in the order error
// messages name them.
var formats = []string{".png", ".svg"}

// ErrNoData is wrapped by the error a Save function returns when, after
// non-finite values (and non-positive ones on a log axis) are skipped, no
// point is left to draw.
var ErrNoData = errors.New("no finite point to draw")

// Default and largest chart sizes, in pixels.
const (
	defaultWidth  = 800
	defaultHeight = 500
	maxSide       = 10000
	pixelsPerInch = 96
)

// format returns the lower-cased extension of path ("png" or "svg"), or an
// error naming the valid ones.
func format(op, path string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, f := range formats {
		if ext == f {
			return ext[1:], nil
		}
	}
	return "", fmt.Errorf("plot: %s: %s: unknown image format %q; use one of %s",
		op, path, ext, strings.Join(formats, ", "))
}

// size applies the defaults to a requested size in pixels and checks it.
func size(op string, w, h int) (int, int, error) {
	if w == 0 {
		w = defaultWidth
	}
	if h == 0 {
		h = defaultHeight
	}
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("plot: %s: negative size %d×%d", op, w, h))
	}
	if w > maxSide || h > maxSide {
		return 0, 0, fmt.Errorf("plot: %s: size %d×%d pixels is larger than %d on a side; ask for a smaller chart",
			op, w, h, maxSide)
	}
	return w, h, nil
}

// render draws p on a canvas of w×h pixels in the given format ("png" or
// "svg") and returns the encoded bytes.
func render(p *gplot.Plot, w, h int, format string) ([]byte, error) {
	return renderBeside(p, nil, w, h, format)
}

// renderBeside is render with, when legend is not nil, the legend drawn in
// a column to the right of the plot, which is narrowed to make room.
func renderBeside(p *gplot.Plot, legend *gplot.Legend, w, h int, format string) ([]byte, error) {
	drawAll := func(dc draw.Canvas) {
		if legend == nil {
			p.Draw(dc)
			return
		}
		pad := vg.Points(8)
		r := legend.Rectangle(dc)
		lw := r.Max.X - r.Min.X + 2*pad
		p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
		// Top-aligned with the plotting area: below the title.
		top := pad
		if p.Title.Text != "" {
			top += p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding
		}
		legend.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-lw+pad, -pad, 0, -top))
	}
	var buf bytes.Buffer
	switch format {
	case "png":
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		cv := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(pixelsPerInch))
		drawAll(draw.New(cv))
		if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&buf); err != nil {
			return nil, err
		}
	case "svg":
		pt := vg.Length(72.0 / pixelsPerInch)
		cv := vgsvg.New(vg.Length(w)*pt, vg.Length(h)*pt)
		drawAll(draw.New(cv))
		if _, err := cv.WriteTo(&buf); err != nil {
			return nil, err
		}
	default:
		panic("plot: render: unknown format " + format)
	}
	return buf.Bytes(), nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory that is synced and then renamed over path (internal/atomicfile).
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("plot: write %s: %w", path, err)
	}
	return nil
}
