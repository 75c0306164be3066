package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The LayerNorm row kernels give the same bits as their pure-Go twins on
// random lengths with tails, inside NaN guard bands, and the twins follow
// their formulas (checked in float64 to float32 rounding).
func TestLayerNormRows(t *testing.T) {
	if !geluHasAVX512 {
		t.Log("no AVX-512: only the pure-Go loops run")
	}
	r := rand.New(rand.NewPCG(13, 14))
	gen := func(int) float32 { return float32(r.NormFloat64()) }
	for range 200 {
		n := r.IntN(150)
		x, _ := guarded(r, n, gen)
		g, _ := guarded(r, n, gen)
		b, _ := guarded(r, n, gen)
		gy, _ := guarded(r, n, gen)
		m, rr, sh, shx := float32(r.NormFloat64()), float32(1+r.Float64()), float32(r.NormFloat64()), float32(r.NormFloat64())

		o, obuf := guarded(r, n, gen)
		want := make([]float32, n)
		LayerNormRow32(o, x, g, b, m, rr)
		lnRowGo(want, x, g, b, m, rr)
		checkGuards(t, "LayerNormRow32", o, obuf)
		for j := range x {
			exact := float64(g[j])*(float64(x[j])-float64(m))*float64(rr) + float64(b[j])
			scale := math.Abs(float64(g[j])*(math.Abs(float64(x[j]))+math.Abs(float64(m)))*float64(rr)) + math.Abs(float64(b[j]))
			if math.Float32bits(o[j]) != math.Float32bits(want[j]) || !close32(want[j], float32(exact), scale) {
				t.Fatalf("LayerNormRow32 n = %d, element %d: assembly %v, pure Go %v, float64 %v", n, j, o[j], want[j], exact)
			}
		}

		var got, ref [3][]float32
		var bufs [3][]float32
		for k := range got {
			got[k], bufs[k] = guarded(r, n, gen)
			ref[k] = append([]float32(nil), got[k]...)
		}
		orig := append([]float32(nil), ref[0]...)
		LayerNormGradRow32(got[0], got[1], got[2], x, gy, g, m, rr, sh, shx)
		c := [4]float32{m, rr, sh, shx}
		lnGradRowGo(ref[0], ref[1], ref[2], x, gy, g, &c)
		for k := range got {
			checkGuards(t, "LayerNormGradRow32", got[k], bufs[k])
			for j := range x {
				if math.Float32bits(got[k][j]) != math.Float32bits(ref[k][j]) {
					t.Fatalf("LayerNormGradRow32 n = %d, output %d, element %d: assembly %v, pure Go %v", n, k, j, got[k][j], ref[k][j])
				}
			}
		}
		for j := range x {
			xh := (float64(x[j]) - float64(m)) * float64(rr)
			exact := float64(orig[j]) + float64(rr)*(float64(gy[j])*float64(g[j])-float64(sh)-xh*float64(shx))
			scale := math.Abs(float64(orig[j])) + float64(rr)*(math.Abs(float64(gy[j])*float64(g[j]))+math.Abs(float64(sh))+math.Abs(xh*float64(shx)))
			if !close32(ref[0][j], float32(exact), scale) {
				t.Fatalf("lnGradRowGo n = %d, element %d: x̄ %v, float64 %v", n, j, ref[0][j], exact)
			}
		}
	}
}
