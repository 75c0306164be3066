package plot_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/genopt/gen/plot"
)

// The line probe of one GeN step: the loss along the update direction next
// to its second-order model, with its minimiser α* marked.
func ExampleSaveProbe() {
	dir, err := os.MkdirTemp("", "plot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// g(α) = 1 − 2α + 2α² + 0.3α³: g(0) = 1, g'(0) = −2, g''(0) = 4.
	g0, d1, d2 := 1.0, -2.0, 4.0
	var alphas, loss []float64
	for i := range 21 {
		a := 0.05 * float64(i)
		alphas = append(alphas, a)
		loss = append(loss, g0+d1*a+0.5*d2*a*a+0.3*a*a*a)
	}
	probe := plot.Probe{
		Alphas:      alphas,
		Loss:        loss,
		Parabola:    plot.Parabola(nil, alphas, g0, d1, d2),
		AlphaStar:   -d1 / d2,
		AlphaApprox: 0.47,
		Title:       "line probe",
	}
	path := filepath.Join(dir, "probe.svg")
	if err := plot.SaveProbe(path, probe); err != nil {
		log.Fatal(err)
	}
	_, err = os.Stat(path)
	fmt.Println("probe.svg written:", err == nil)

	err = plot.SaveLines(filepath.Join(dir, "loss.gif"), plot.Chart{}, plot.Series{Name: "loss", X: alphas, Y: loss})
	fmt.Println(err != nil)
	// Output:
	// probe.svg written: true
	// true
}
