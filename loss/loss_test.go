package loss

import (
	"math"
	"strings"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Kind
	}{{"mse", MSE}, {"half-sq", HalfSq}, {"ce", CE}, {"nll", NLL}, {" CE ", CE}, {"Half-Sq", HalfSq}} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	_, err := Parse("cross-entropy")
	if err == nil {
		t.Fatal(`Parse("cross-entropy") succeeded`)
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list the valid name %q", err, n)
		}
	}
}

func TestClassification(t *testing.T) {
	for k, want := range map[Kind]bool{MSE: false, HalfSq: false, CE: true, NLL: true} {
		if got := k.Classification(); got != want {
			t.Errorf("%v.Classification() = %v, want %v", k, got, want)
		}
	}
}

// FuzzParse: Parse accepts exactly the names (up to case and spaces), and
// String inverts it.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		f.Add(n)
	}
	f.Add("")
	f.Add("MSE\t")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		if k.String() != strings.ToLower(strings.TrimSpace(s)) {
			t.Errorf("Parse(%q) = %v", s, k)
		}
		if k2, err := Parse(k.String()); err != nil || k2 != k {
			t.Errorf("Parse(%v.String()) = %v, %v", k, k2, err)
		}
	})
}

// TestRecord compares each loss with its formula, evaluated by hand on a
// 2×3 example.
func TestRecord(t *testing.T) {
	pred := tensor.FromSlice([]float64{1, 2, 3, -1, 0, 0.5}, 2, 3)
	target := tensor.FromSlice([]float64{0, 2, 1, 1, 0, 0}, 2, 3)
	labels := []int{2, 0}
	// Errors e = (1, 0, 2, −2, 0, 0.5): Σe² = 9.25.
	lse := func(z ...float64) float64 {
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		return math.Log(s)
	}
	ce := ((lse(1, 2, 3) - 3) + (lse(-1, 0, 0.5) + 1)) / 2
	for _, c := range []struct {
		kind   Kind
		pred   *tensor.Tensor[float64]
		target Target[float64]
		want   float64
	}{
		{MSE, pred, Values(target), 9.25 / 6},
		{HalfSq, pred, Values(target), 9.25 / 4},
		{CE, pred, Labels[float64](labels), ce},
		{NLL, pred, Labels[float64](labels), -(3 - 1) / 2.0},
	} {
		tape := &ad.Tape[float64]{}
		got := Record(tape, c.kind, tape.Const(c.pred), c.target).Value.Item()
		// Tolerance: a handful of roundings of values of order 1.
		if math.Abs(got-c.want) > 1e-14 {
			t.Errorf("%v = %v, want %v", c.kind, got, c.want)
		}
	}
}

func TestRecordWrongTargetPanics(t *testing.T) {
	pred := tensor.New[float64](2, 3)
	for _, c := range []struct {
		kind   Kind
		target Target[float64]
	}{{CE, Values(pred)}, {NLL, Target[float64]{}}, {MSE, Labels[float64]([]int{0, 1})}, {HalfSq, Target[float64]{}}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "loss: ") {
					t.Errorf("Record(%v) with target %+v: panic %v, want a loss: panic", c.kind, c.target, r)
				}
			}()
			tape := &ad.Tape[float64]{}
			Record(tape, c.kind, tape.Const(pred), c.target)
		}()
	}
}
