package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Special values whose bits must survive a round trip: signed zeros,
// infinities, quiet and signalling NaNs with payloads, subnormals, extremes.
var (
	bits32 = []uint32{0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00123, 0x7f800001,
		0xffc0beef, 0x00000001, 0x807fffff, 0x7f7fffff, 0x3f800000, 0xbeaaaaab}
	bits64 = []uint64{0, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
		0x7ff8000000000123, 0x7ff0000000000001, 0xfff8deadbeef0000, 1, 0x800fffffffffffff,
		0x7fefffffffffffff, 0x3ff0000000000000, 0xbfd5555555555555}
)

// model returns parameters named like an MLP's, with every value of vals
// spread over them (cycling), of element type T.
func model[T tensor.Float](vals []T) []*ad.Var[T] {
	shapes := []struct {
		name  string
		shape []int
	}{{"0.weight", []int{3, 2}}, {"0.bias", []int{3}}, {"2.weight", []int{1, 3}}, {"2.bias", []int{1}}}
	var params []*ad.Var[T]
	k := 0
	for _, s := range shapes {
		t := tensor.New[T](s.shape...)
		d := t.Data()
		for i := range d {
			d[i] = vals[k%len(vals)]
			k++
		}
		params = append(params, ad.NewParam(s.name, t))
	}
	return params
}

func floats32(bits []uint32) []float32 {
	out := make([]float32, len(bits))
	for i, b := range bits {
		out[i] = math.Float32frombits(b)
	}
	return out
}

func floats64(bits []uint64) []float64 {
	out := make([]float64, len(bits))
	for i, b := range bits {
		out[i] = math.Float64frombits(b)
	}
	return out
}

// zeroed returns parameters with the names and shapes of ps and zero values.
func zeroed[T tensor.Float](ps []*ad.Var[T]) []*ad.Var[T] {
	out := make([]*ad.Var[T], len(ps))
	for i, p := range ps {
		out[i] = ad.NewParam(p.Name, tensor.New[T](p.Value.Shape()...))
	}
	return out
}

func TestRoundTripBits(t *testing.T) {
	dir := t.TempDir()
	meta := map[string]string{"arch": "mlp 2-3-1", "note": "<&>"}

	p32 := model(floats32(bits32))
	path := filepath.Join(dir, "w32.safetensors")
	if err := SaveWeights(path, p32, meta); err != nil {
		t.Fatal(err)
	}
	q32 := zeroed(p32)
	gotMeta, err := LoadWeights(path, q32)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotMeta) != 2 || gotMeta["arch"] != meta["arch"] || gotMeta["note"] != meta["note"] {
		t.Errorf("metadata = %v, want %v", gotMeta, meta)
	}
	for i := range p32 {
		for j, v := range p32[i].Value.Data() {
			if g := q32[i].Value.Data()[j]; math.Float32bits(g) != math.Float32bits(v) {
				t.Errorf("float32 %s[%d]: got bits %#08x, want %#08x", p32[i].Name, j, math.Float32bits(g), math.Float32bits(v))
			}
		}
	}

	p64 := model(floats64(bits64))
	path = filepath.Join(dir, "w64.safetensors")
	if err := SaveWeights(path, p64, nil); err != nil {
		t.Fatal(err)
	}
	q64 := zeroed(p64)
	if gotMeta, err = LoadWeights(path, q64); err != nil {
		t.Fatal(err)
	}
	if gotMeta != nil {
		t.Errorf("metadata = %v, want none", gotMeta)
	}
	for i := range p64 {
		for j, v := range p64[i].Value.Data() {
			if g := q64[i].Value.Data()[j]; math.Float64bits(g) != math.Float64bits(v) {
				t.Errorf("float64 %s[%d]: got bits %#016x, want %#016x", p64[i].Name, j, math.Float64bits(g), math.Float64bits(v))
			}
		}
	}
}

// TestWiden loads an F32 file into float64 parameters: every non-NaN value
// must equal the exact widening, NaNs stay NaN with their sign.
func TestWiden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	p32 := model(floats32(bits32))
	if err := SaveWeights(path, p32, nil); err != nil {
		t.Fatal(err)
	}
	q := zeroed(model([]float64{0}))
	if _, err := LoadWeights(path, q); err != nil {
		t.Fatal(err)
	}
	for i := range p32 {
		for j, v := range p32[i].Value.Data() {
			g, w := q[i].Value.Data()[j], float64(v)
			if math.IsNaN(w) {
				if !math.IsNaN(g) || math.Signbit(g) != math.Signbit(w) {
					t.Errorf("%s[%d]: got %v, want a NaN of sign %v", p32[i].Name, j, g, math.Signbit(w))
				}
			} else if math.Float64bits(g) != math.Float64bits(w) {
				t.Errorf("%s[%d]: got %v, want %v", p32[i].Name, j, g, w)
			}
		}
	}
}

func TestLoadMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	src := model([]float64{1, 2, 3})
	if err := SaveWeights(path, src, nil); err != nil {
		t.Fatal(err)
	}
	rename := zeroed(src)
	rename[1].Name = "0.b"
	reshape := zeroed(src)
	reshape[0] = ad.NewParam("0.weight", tensor.New[float64](2, 3))
	dup := zeroed(src)
	dup[3].Name = "0.bias"
	tests := []struct {
		name   string
		params []*ad.Var[float64]
		want   string
	}{
		{"renamed", rename, `no tensor for parameter "0.b"`},
		{"reshaped", reshape, `tensor "0.weight" has shape [3 2], parameter has [2 3]`},
		{"missing parameter", zeroed(src)[:3], `tensor "2.bias" matches no parameter`},
		{"extra parameter", append(zeroed(src), ad.NewParam("4.bias", tensor.New[float64](1))), `no tensor for parameter "4.bias"`},
		{"duplicate", dup, `two parameters are named "0.bias"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadWeights(path, tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got error %v, want one naming %s and containing %q", err, path, tc.want)
			}
			for _, p := range tc.params {
				for _, v := range p.Value.Data() {
					if v != 0 {
						t.Fatalf("parameter %s was changed by a failed load", p.Name)
					}
				}
			}
		})
	}

	// F64 into float32 is refused.
	q := zeroed(model([]float32{0}))
	if _, err := LoadWeights(path, q); err == nil || !strings.Contains(err.Error(), "narrowing") {
		t.Errorf("F64 into float32: got %v, want a narrowing error", err)
	}
}

func TestSaveNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	for _, tc := range []struct{ a, b, want string }{
		{"", "x", "no name"},
		{"x", "x", `two parameters are named "x"`},
		{"__metadata__", "x", "reserved"},
	} {
		ps := []*ad.Var[float32]{ad.NewParam(tc.a, tensor.New[float32](1)), ad.NewParam(tc.b, tensor.New[float32](1))}
		if err := SaveWeights(path, ps, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("names %q, %q: got %v, want an error containing %q", tc.a, tc.b, err, tc.want)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written despite the errors")
	}
}

// TestIndependentDecoder reads a file SaveWeights wrote with a decoder
// written here from the format description alone: encoding/json for the
// header, binary.Read for the values.
func TestIndependentDecoder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	params := model([]float32{0.5, -1.25, 3, 1e-3, -7})
	params = append(params, ad.NewParam("scalar", tensor.Scalar[float32](42)))
	if err := SaveWeights(path, params, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if (8+n)%8 != 0 {
		t.Errorf("header length %d: data does not start 8-byte aligned", n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &meta); err != nil || meta["k"] != "v" {
		t.Errorf("__metadata__ = %s (%v), want {\"k\":\"v\"}", header["__metadata__"], err)
	}
	if len(header) != len(params)+1 {
		t.Errorf("header has %d keys, want %d tensors and __metadata__", len(header), len(params))
	}
	buf := data[8+n:]
	for _, p := range params {
		var e struct {
			DType   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(header[p.Name], &e); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if e.DType != "F32" || e.Shape == nil || !equalInts(e.Shape, p.Value.Shape()) {
			t.Errorf("%s: dtype %s shape %v, want F32 %v", p.Name, e.DType, e.Shape, p.Value.Shape())
		}
		got := make([]float32, p.Value.Len())
		if err := binary.Read(bytes.NewReader(buf[e.Offsets[0]:e.Offsets[1]]), binary.LittleEndian, got); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		for i, v := range p.Value.Data() {
			if got[i] != v {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, got[i], v)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// handFile builds a safetensors file from a header written out by hand and
// a data buffer, as another tool would.
func handFile(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

// TestDecodeHandWritten decodes a file whose bytes are written out here:
// F32 [1, -2] (0x3f800000, 0xc0000000) and F64 scalar 0.5
// (0x3fe0000000000000), in the reverse of name order, with metadata and
// trailing header spaces.
func TestDecodeHandWritten(t *testing.T) {
	header := `{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"__metadata__":{"format":"pt"},` +
		`"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}   `
	buf := []byte{0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}
	tensors, meta, err := Decode(handFile(header, buf))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("meta = %v", meta)
	}
	b, err := tensors["b"].Float32s()
	if err != nil || len(b) != 2 || b[0] != 1 || b[1] != -2 {
		t.Errorf("b = %v (%v), want [1 -2]", b, err)
	}
	a, err := tensors["a"].Float64s()
	if err != nil || len(a) != 1 || a[0] != 0.5 || len(tensors["a"].Shape) != 0 {
		t.Errorf("a = %v shape %v (%v), want scalar 0.5", a, tensors["a"].Shape, err)
	}
	if _, err := tensors["a"].Float32s(); err == nil {
		t.Error("F64 entry read as float32 without error")
	}
	// Load into float64 parameters: b widens.
	pa := ad.NewParam("a", tensor.New[float64]())
	pb := ad.NewParam("b", tensor.New[float64](2))
	if _, err := decodeWeights(handFile(header, buf), []*ad.Var[float64]{pb, pa}); err != nil {
		t.Fatal(err)
	}
	if pa.Value.Item() != 0.5 || pb.Value.At(1) != -2 {
		t.Errorf("loaded a = %v, b = %v", pa.Value, pb.Value)
	}
}

func TestDecodeErrors(t *testing.T) {
	f32 := func(name string, off0, off1 int, shape string) string {
		return `"` + name + `":{"dtype":"F32","shape":` + shape + `,"data_offsets":[` + itoa(off0) + `,` + itoa(off1) + `]}`
	}
	eight := make([]byte, 8)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "too short"},
		{"huge header length", binary.LittleEndian.AppendUint64(nil, 1<<62), "exceeds"},
		{"header length past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "exceeds"},
		{"not an object", handFile(`[]`, nil), "does not start with '{'"},
		{"bad JSON", handFile(`{"a":`, nil), "header"},
		{"trailing after object", handFile(`{} x`, nil), "after the header"},
		{"duplicate name", handFile(`{`+f32("a", 0, 4, "[1]")+`,`+f32("a", 4, 8, "[1]")+`}`, eight), `"a" appears twice`},
		{"empty name", handFile(`{`+f32("", 0, 4, "[1]")+`}`, eight[:4]), "empty name"},
		{"unknown dtype", handFile(`{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, eight[:4]), "unknown dtype"},
		{"negative dim", handFile(`{`+f32("a", 0, 4, "[-1]")+`}`, eight[:4]), "negative dimension"},
		{"shape does not fill", handFile(`{`+f32("a", 0, 8, "[1]")+`}`, eight), "does not fill"},
		{"shape overflow", handFile(`{`+f32("a", 0, 8, "[4294967296,4294967296,4294967296]")+`}`, eight), "does not fill"},
		{"end out of range", handFile(`{`+f32("a", 0, 12, "[3]")+`}`, eight), "outside"},
		{"begin after end", handFile(`{`+f32("a", 8, 4, "[1]")+`}`, eight), "outside"},
		{"one offset", handFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}}`, eight[:4]), "data_offsets has 1"},
		{"negative offset", handFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, eight[:4]), "header"},
		{"overlap", handFile(`{`+f32("a", 0, 8, "[2]")+`,`+f32("b", 4, 8, "[1]")+`}`, eight), "overlap"},
		{"hole", handFile(`{`+f32("a", 4, 8, "[1]")+`}`, eight), "hole"},
		{"trailing bytes", handFile(`{`+f32("a", 0, 4, "[1]")+`}`, eight), "trailing bytes"},
		{"metadata not strings", handFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"invalid UTF-8", handFile("{\"\xff\":1}", nil), "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode: got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestTruncated decodes every proper prefix of a valid file: each must be
// an error, none a panic.
func TestTruncated(t *testing.T) {
	full, err := encodeWeights(model([]float32{1, 2, 3}), map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Decode(full); err != nil {
		t.Fatalf("the untruncated file does not decode: %v", err)
	}
	for n := range len(full) {
		if _, _, err := Decode(full[:n]); err == nil {
			t.Errorf("prefix of %d of %d bytes decoded without error", n, len(full))
		}
	}
	path := filepath.Join(t.TempDir(), "cut.safetensors")
	if err := os.WriteFile(path, full[:len(full)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadWeights(path, zeroed(model([]float32{0})))
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadWeights of a truncated file: got %v, want an error naming %s", err, path)
	}
}

// TestHugeHeaderNoAlloc checks that a header length near 2⁶⁴ is rejected
// without allocating for it: the bytes allocated must stay under 1 MiB,
// far below what honouring the length would take.
func TestHugeHeaderNoAlloc(t *testing.T) {
	const budget = 1 << 20
	file := append(binary.LittleEndian.AppendUint64(nil, math.MaxUint64-7), "{}"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, _, err := Decode(file); err == nil {
			t.Fatal("no error")
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > budget {
		t.Errorf("10 decodes allocated %d bytes, budget %d", got, budget)
	}
}

func FuzzReadWeights(f *testing.F) {
	valid, err := encodeWeights(model([]float32{1, -2, 3.5}), map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, n := range []int{0, 7, 8, 9, 16, len(valid) / 2, len(valid) - 1} {
		f.Add(valid[:n])
	}
	f.Add(handFile(`{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, meta, err := Decode(data)
		if err != nil {
			return
		}
		// A file that decodes must re-encode to a file that decodes to the
		// same tensors and metadata.
		again, err := Encode(tensors, meta)
		if err != nil {
			t.Fatalf("re-encoding a decoded file: %v", err)
		}
		t2, m2, err := Decode(again)
		if err != nil {
			t.Fatalf("decoding the re-encoded file: %v", err)
		}
		if len(t2) != len(tensors) || len(m2) != len(meta) {
			t.Fatalf("re-decoded %d tensors, %d metadata; want %d, %d", len(t2), len(m2), len(tensors), len(meta))
		}
		for name, e := range tensors {
			e2 := t2[name]
			if e2.DType != e.DType || !equalInts(e2.Shape, e.Shape) || !bytes.Equal(e2.Data, e.Data) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
		// Loading into float64 parameters of the right shapes must succeed
		// for float dtypes and never panic.
		var params []*ad.Var[float64]
		for name, e := range tensors {
			params = append(params, ad.NewParam(name, tensor.New[float64](e.Shape...)))
		}
		decodeWeights(data, params)
	})
}
