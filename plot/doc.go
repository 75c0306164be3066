// Package plot draws the charts a training run is read by: loss, accuracy
// and learning rate against the step (SaveLines), and the line-probe figure
// of the generalized Newton's method (SaveProbe): the true loss along the
// update direction,
//
//	g(α) = f(θ − α·u),
//
// sampled on a grid of learning rates, drawn against its second-order
// Taylor model
//
//	q(α) = g(0) + g'(0)·α + ½·g''(0)·α²,
//
// with its minimiser α* marked (Bu & Xu, "Automatic gradient descent with
// generalized Newton's method", arXiv:2407.02772, eq. (3.1)). The figure is
// the one the theory notes of the project draw for each probe: loss against
// learning rate, with the second-order parabola against it.
//
// Inputs are plain Go data (Series, Probe), so the package imports no other
// package of this module. Rendering uses gonum.org/v1/plot.
//
// # Files
//
// The output format follows the file extension: ".png" or ".svg" (case
// does not matter); any other extension is an error that lists the valid
// ones. Sizes are given in pixels; a PNG has exactly that many pixels, an SVG
// is drawn at 96 pixels per inch (0.75 points per pixel). Every file is
// written atomically: the image is rendered in memory, written to a
// temporary file in the destination directory, synced, and renamed over the
// destination, so a reader never sees a half-written chart.
//
// # Values that cannot be drawn
//
// NaN and ±Inf values are skipped (the line joins the neighbouring finite
// points); on a logarithmic axis non-positive values are skipped the same
// way. A series left with no point is left out of the chart and its legend.
// A chart with no point at all to draw returns an error wrapping ErrNoData
// rather than writing an empty picture.
package plot
