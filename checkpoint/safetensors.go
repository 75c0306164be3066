package checkpoint

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// metadataKey is the reserved header key of the free-form string metadata.
const metadataKey = "__metadata__"

// maxHeader caps the JSON header at 100 MiB, the limit the reference
// implementation uses; a longer header is rejected before it is read.
const maxHeader = 100 << 20

// dtypeSize maps every safetensors dtype to its element size in bytes.
// ReadFile accepts all of them for inspection; LoadWeights reads F32 and F64.
var dtypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// Entry is one tensor of a safetensors file: its dtype ("F32", "F64", …),
// its shape (empty for a scalar) and its raw little-endian row-major bytes.
// Entries returned by Decode share Data with the decoded buffer.
type Entry struct {
	DType string
	Shape []int
	Data  []byte
}

// Len returns the number of elements, the product of the shape (1 for a
// scalar).
func (e Entry) Len() int {
	n := 1
	for _, d := range e.Shape {
		n *= d
	}
	return n
}

// Float64s returns the elements as float64: F64 bit for bit, F32 widened
// (exact for every float32 value). Other dtypes are an error.
func (e Entry) Float64s() ([]float64, error) {
	out := make([]float64, e.Len())
	switch e.DType {
	case "F64":
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(e.Data[8*i:]))
		}
	case "F32":
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*i:])))
		}
	default:
		return nil, fmt.Errorf("dtype %s cannot be read as float64; only F32 and F64 can", e.DType)
	}
	return out, nil
}

// Float32s returns the elements of an F32 entry bit for bit. Other dtypes
// are an error (F64 would lose precision; convert Float64s explicitly).
func (e Entry) Float32s() ([]float32, error) {
	if e.DType != "F32" {
		return nil, fmt.Errorf("dtype %s cannot be read as float32 without loss; only F32 can", e.DType)
	}
	out := make([]float32, e.Len())
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*i:]))
	}
	return out, nil
}

// headerEntry is a tensor's record in the JSON header.
type headerEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets []uint64 `json:"data_offsets"`
}

// Encode returns the safetensors encoding of the tensors and the metadata
// (nil or empty for none). Tensors are laid out in the buffer in name
// order; the header is padded with spaces to a multiple of 8 bytes, so
// every tensor starts 8-byte aligned in the file. It returns an error if a
// name is empty or "__metadata__", a dtype is unknown, or a Data length does
// not match its dtype and shape.
func Encode(tensors map[string]Entry, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header[metadataKey] = meta
	}
	var off uint64
	for _, name := range names {
		e := tensors[name]
		if name == "" || name == metadataKey {
			return nil, fmt.Errorf("tensor name %q is reserved", name)
		}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", name, e.DType)
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
		}
		if len(e.Data) != e.Len()*size {
			return nil, fmt.Errorf("tensor %q: %s shape %v needs %d bytes, has %d", name, e.DType, e.Shape, e.Len()*size, len(e.Data))
		}
		shape := e.Shape
		if shape == nil {
			shape = []int{} // a scalar's shape is [], not null
		}
		header[name] = headerEntry{DType: e.DType, Shape: shape, Offsets: []uint64{off, off + uint64(len(e.Data))}}
		off += uint64(len(e.Data))
	}
	js, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	if pad := len(js) % 8; pad != 0 {
		js = append(js, bytes.Repeat([]byte{' '}, 8-pad)...)
	}
	out := make([]byte, 8, 8+len(js)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(js)))
	out = append(out, js...)
	for _, name := range names {
		out = append(out, tensors[name].Data...)
	}
	return out, nil
}

// Decode parses a safetensors file held in data and returns its tensors by
// name and its metadata (nil if the file has none). The entries' Data alias
// data. Decode never panics; it returns an error if the file is shorter than
// its header says, the header length exceeds the file or 100 MiB, the header
// is not a JSON object of the expected form, a name is empty or repeats, a dtype is
// unknown, a shape has a negative dimension or does not match the byte
// range, or the byte ranges overlap, leave a hole, or do not end at the end
// of the file.
func Decode(data []byte) (map[string]Entry, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%d bytes is too short for the 8-byte header length; the file is truncated", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d bytes that follow it; the file is truncated or not safetensors", n, len(data)-8)
	}
	if n > maxHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, maxHeader)
	}
	head := data[8 : 8+n]
	buf := data[8+n:]
	if len(head) == 0 || head[0] != '{' {
		return nil, nil, errors.New("header does not start with '{'; not a safetensors file")
	}
	if !utf8.Valid(head) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	records, meta, err := parseHeader(head)
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}

	type span struct {
		name       string
		begin, end uint64
	}
	spans := make([]span, 0, len(records))
	tensors := make(map[string]Entry, len(records))
	for name, r := range records {
		size, ok := dtypeSize[r.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: unknown dtype %q", name, r.DType)
		}
		if len(r.Offsets) != 2 {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets has %d values, want [begin, end]", name, len(r.Offsets))
		}
		begin, end := r.Offsets[0], r.Offsets[1]
		if begin > end || end > uint64(len(buf)) {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d-byte data buffer", name, begin, end, len(buf))
		}
		// Count the elements without overflow: the byte range bounds the
		// count, so any product beyond it is already a mismatch.
		limit := (end - begin) / uint64(size)
		count := uint64(1)
		for _, d := range r.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, r.Shape)
			}
			if d != 0 && count > limit/uint64(d) {
				count = limit + 1 // too many elements; and stays so
				continue
			}
			count *= uint64(d)
		}
		if count*uint64(size) != end-begin {
			return nil, nil, fmt.Errorf("tensor %q: %s shape %v does not fill data_offsets [%d, %d] (%d bytes)", name, r.DType, r.Shape, begin, end, end-begin)
		}
		shape := r.Shape
		if shape == nil {
			shape = []int{}
		}
		tensors[name] = Entry{DType: r.DType, Shape: shape, Data: buf[begin:end:end]}
		spans = append(spans, span{name, begin, end})
	}

	// The tensors must tile the buffer: sorted by position, each starts
	// where the previous one ended, and the last ends at the end.
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var at uint64
	prev := "the start of the data buffer"
	for _, s := range spans {
		switch {
		case s.begin < at:
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap %s", s.name, s.begin, s.end, prev)
		case s.begin > at:
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a hole of %d bytes after %s", s.name, s.begin, s.end, s.begin-at, prev)
		}
		at = s.end
		prev = fmt.Sprintf("tensor %q", s.name)
	}
	if at != uint64(len(buf)) {
		return nil, nil, fmt.Errorf("data buffer has %d bytes but the tensors cover %d; the file has trailing bytes", len(buf), at)
	}
	return tensors, meta, nil
}

// parseHeader reads the header object token by token so that a repeated
// name is an error (encoding/json into a map would keep the last silently).
func parseHeader(head []byte) (map[string]headerEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	records := make(map[string]headerEntry)
	var meta map[string]string
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("object key %v is not a string", tok)
		}
		if name == metadataKey {
			if seenMeta {
				return nil, nil, fmt.Errorf("%s appears twice", metadataKey)
			}
			seenMeta = true
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", metadataKey, err)
			}
			continue
		}
		if name == "" {
			return nil, nil, fmt.Errorf("a tensor has an empty name")
		}
		if _, dup := records[name]; dup {
			return nil, nil, fmt.Errorf("tensor %q appears twice", name)
		}
		var r headerEntry
		if err := dec.Decode(&r); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		records[name] = r
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("data after the header object")
	}
	return records, meta, nil
}

// ReadFile reads the safetensors file at path, for inspection: tensor name
// → Entry (any dtype), and the metadata. Errors name the file and say what is
// wrong with it (see Decode). Memory use is bounded by the size of the file.
func ReadFile(path string) (map[string]Entry, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	tensors, meta, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return tensors, meta, nil
}

// dtypeOf returns the safetensors dtype of T: F32 for float32, F64 for
// float64.
func dtypeOf[T tensor.Float]() string {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return "F32"
	}
	return "F64"
}

// weightEntries encodes the parameter values as entries named by the
// parameter names, checking the names.
func weightEntries[T tensor.Float](params []*ad.Var[T]) (map[string]Entry, error) {
	dtype := dtypeOf[T]()
	out := make(map[string]Entry, len(params))
	for i, p := range params {
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("parameter %d has no name; give every parameter a unique Name", i)
		case p.Name == metadataKey:
			return nil, fmt.Errorf("parameter %d: name %q is reserved", i, p.Name)
		}
		if _, dup := out[p.Name]; dup {
			return nil, fmt.Errorf("two parameters are named %q; names must be unique", p.Name)
		}
		vals := p.Value.Data()
		var data []byte
		if dtype == "F32" {
			data = make([]byte, 4*len(vals))
			for j, v := range vals {
				binary.LittleEndian.PutUint32(data[4*j:], math.Float32bits(float32(v)))
			}
		} else {
			data = make([]byte, 8*len(vals))
			for j, v := range vals {
				binary.LittleEndian.PutUint64(data[8*j:], math.Float64bits(float64(v)))
			}
		}
		out[p.Name] = Entry{DType: dtype, Shape: slices.Clone(p.Value.Shape()), Data: data}
	}
	return out, nil
}

// SaveWeights writes the values of params to path as a safetensors file,
// atomically (WriteFileAtomic). Each parameter becomes a tensor named
// p.Name with p.Value's shape and dtype F32 (float32 parameters) or F64
// (float64), bit for bit, NaN payloads and signed zeros included. meta, if
// not empty, is stored as the header's "__metadata__". It returns an error
// if a name is empty, repeated or "__metadata__".
func SaveWeights[T tensor.Float](path string, params []*ad.Var[T], meta map[string]string) error {
	data, err := encodeWeights(params, meta)
	if err != nil {
		return fmt.Errorf("checkpoint: SaveWeights %s: %w", path, err)
	}
	return WriteFileAtomic(path, data)
}

func encodeWeights[T tensor.Float](params []*ad.Var[T], meta map[string]string) ([]byte, error) {
	entries, err := weightEntries(params)
	if err != nil {
		return nil, err
	}
	return Encode(entries, meta)
}

// LoadWeights reads the safetensors file at path into the values of params,
// matching tensors to parameters by name. Every parameter must have a tensor
// of the same shape and every tensor a parameter; otherwise nothing is
// changed and the error names the first mismatch. F32 tensors load into
// float32 parameters bit for bit and into float64 parameters by exact
// widening; F64 tensors load into float64 parameters bit for bit and are
// refused for float32 parameters (narrowing would lose precision: load into
// float64 parameters and convert with tensor.Convert). It returns the
// file's metadata.
func LoadWeights[T tensor.Float](path string, params []*ad.Var[T]) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	meta, err := decodeWeights(data, params)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: LoadWeights %s: %w", path, err)
	}
	return meta, nil
}

func decodeWeights[T tensor.Float](data []byte, params []*ad.Var[T]) (map[string]string, error) {
	tensors, meta, err := Decode(data)
	if err != nil {
		return nil, err
	}
	want := dtypeOf[T]()
	seen := make(map[string]bool, len(params))
	for i, p := range params {
		e, ok := tensors[p.Name]
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("parameter %d has no name", i)
		case seen[p.Name]:
			return nil, fmt.Errorf("two parameters are named %q", p.Name)
		case !ok:
			return nil, fmt.Errorf("no tensor for parameter %q; the file has %s", p.Name, names(tensors))
		case !slices.Equal(e.Shape, p.Value.Shape()):
			return nil, fmt.Errorf("tensor %q has shape %v, parameter has %v", p.Name, e.Shape, p.Value.Shape())
		case e.DType != "F32" && e.DType != "F64":
			return nil, fmt.Errorf("tensor %q has dtype %s; only F32 and F64 load", p.Name, e.DType)
		case e.DType == "F64" && want == "F32":
			return nil, fmt.Errorf("tensor %q is F64 and the parameters are float32; narrowing would lose precision, load into float64 parameters and convert", p.Name)
		}
		seen[p.Name] = true
	}
	if len(tensors) != len(params) {
		for name := range tensors {
			if !seen[name] {
				return nil, fmt.Errorf("tensor %q matches no parameter; the model has %d parameters, the file %d tensors", name, len(params), len(tensors))
			}
		}
	}
	// All checks passed: copy.
	for _, p := range params {
		e := tensors[p.Name]
		dst := p.Value.Data()
		switch {
		case e.DType == "F32" && want == "F32":
			for j := range dst {
				dst[j] = T(math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*j:])))
			}
		case e.DType == "F32":
			for j := range dst {
				dst[j] = T(float64(math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*j:]))))
			}
		default:
			for j := range dst {
				dst[j] = T(math.Float64frombits(binary.LittleEndian.Uint64(e.Data[8*j:])))
			}
		}
	}
	return meta, nil
}

// names lists the tensor names of a file, sorted, for error messages.
func names(tensors map[string]Entry) string {
	list := make([]string, 0, len(tensors))
	for name := range tensors {
		list = append(list, fmt.Sprintf("%q", name))
	}
	slices.Sort(list)
	if len(list) > 8 {
		list = append(list[:8], "…")
	}
	return "[" + strings.Join(list, " ") + "]"
}
