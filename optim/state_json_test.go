package optim

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestStateJSONRoundTripIsExact: every float64 bit pattern a buffer can
// hold — signed zeros, subnormals, ±Inf, NaN with a payload — reads back
// bit for bit, and the buffer is written as one base64 string.
func TestStateJSONRoundTripIsExact(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -2.5, math.SmallestNonzeroFloat64, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff8_0000_dead_beef), 0.1, 1e-300}
	s := State{Kind: "adam", Step: 7, Shapes: [][]int{{len(vals)}, {2}}, Scalars: map[string]float64{"d": 3},
		Buffers: map[string][][]float64{"m": {vals, {1, 2}}, "v": {make([]float64, len(vals)), {}}}}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "[0,") || !strings.Contains(string(data), `"m":["`) {
		t.Errorf("buffers not written as base64 strings: %.200s", data)
	}
	if !json.Valid(data) {
		t.Fatalf("not valid JSON: %.200s", data)
	}
	for range 5 { // the buffers are written in name order, not map order
		again, err := json.Marshal(s)
		if err != nil || string(again) != string(data) {
			t.Fatalf("a second marshalling differs: %v", err)
		}
	}
	var got State
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Kind != s.Kind || got.Step != s.Step || got.Scalars["d"] != 3 || len(got.Shapes) != 2 {
		t.Fatalf("got %+v", got)
	}
	for name, bufs := range s.Buffers {
		for i, b := range bufs {
			g := got.Buffers[name][i]
			if len(g) != len(b) {
				t.Fatalf("%s[%d]: %d values, want %d", name, i, len(g), len(b))
			}
			for k := range b {
				if math.Float64bits(g[k]) != math.Float64bits(b[k]) {
					t.Errorf("%s[%d][%d]: bits %x, want %x", name, i, k, math.Float64bits(g[k]), math.Float64bits(b[k]))
				}
			}
		}
	}
}

// TestStateJSONReadsTheFormerFormat: a state whose buffers are arrays of
// numbers, as earlier versions wrote them, still loads.
func TestStateJSONReadsTheFormerFormat(t *testing.T) {
	old := `{"kind":"adam","step":3,"shapes":[[2]],"buffers":{"m":[[0.5,-1e-9]],"v":[[2,3]]}}`
	var s State
	if err := json.Unmarshal([]byte(old), &s); err != nil {
		t.Fatal(err)
	}
	if s.Buffers["m"][0][1] != -1e-9 || s.Buffers["v"][0][0] != 2 || s.Step != 3 {
		t.Fatalf("got %+v", s)
	}
}

// TestStateJSONRejectsBadBuffers: malformed base64, a length that is not a
// whole number of float64 values, a value of another type, and an unknown
// field are errors that say what is wrong.
func TestStateJSONRejectsBadBuffers(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{`{"kind":"adam","step":1,"buffers":{"m":["!!!"]}}`, "base64"},
		{`{"kind":"adam","step":1,"buffers":{"m":["AAAA"]}}`, "whole number of float64"},
		{`{"kind":"adam","step":1,"buffers":{"m":[true]}}`, "base64 string or an array of numbers"},
		{`{"kind":"adam","step":1,"extra":1}`, "unknown field"},
	} {
		var s State
		err := json.Unmarshal([]byte(c.doc), &s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.doc, err, c.want)
		}
	}
}
