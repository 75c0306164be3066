package optim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
)

// stateJSON is State as it is written: each buffer of a parameter as one
// float64s.
type stateJSON struct {
	Kind    string                `json:"kind"`
	Step    int64                 `json:"step"`
	Shapes  [][]int               `json:"shapes,omitempty"`
	Scalars map[string]float64    `json:"scalars,omitempty"`
	Buffers map[string][]float64s `json:"buffers,omitempty"`
}

// MarshalJSON writes s with each buffer as a JSON string: the base64
// (RFC 4648, standard alphabet, padded) of its float64 values as IEEE 754
// little-endian bytes. That is exact for every value, NaN and ±Inf
// included, and small and fast next to decimal numbers: Adam's moments for
// the MNIST MLP take 4.3 MB instead of 11.6 MB. The buffers, in name order,
// are appended directly, not through encoding/json, which would scan every
// byte of the base64 again (BenchmarkStateJSON: 5 ms to write those 4.3 MB
// here, 19 ms through json.Marshal, which rescans the output once more).
func (s State) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(stateJSON{Kind: s.Kind, Step: s.Step, Shapes: s.Shapes, Scalars: s.Scalars})
	if err != nil || s.Buffers == nil {
		return head, err
	}
	size := len(head) + 16
	for name, bufs := range s.Buffers {
		size += len(name) + 8
		for _, b := range bufs {
			size += base64.StdEncoding.EncodedLen(8*len(b)) + 3
		}
	}
	out := make([]byte, 0, size)
	out = append(out, head[:len(head)-1]...) // without its closing brace
	out = append(out, `,"buffers":{`...)
	var raw []byte
	for i, name := range slices.Sorted(maps.Keys(s.Buffers)) {
		if i > 0 {
			out = append(out, ',')
		}
		key, err := json.Marshal(name)
		if err != nil {
			return nil, err
		}
		out = append(append(out, key...), ':', '[')
		for k, b := range s.Buffers[name] {
			if k > 0 {
				out = append(out, ',')
			}
			raw = appendBits(raw[:0], b)
			out = append(out, '"')
			out = base64.StdEncoding.AppendEncode(out, raw)
			out = append(out, '"')
		}
		out = append(out, ']')
	}
	return append(out, '}', '}'), nil
}

// appendBits appends the little-endian bytes of xs' float64 bits to dst.
func appendBits(dst []byte, xs []float64) []byte {
	for _, v := range xs {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

// UnmarshalJSON reads a state written by MarshalJSON, or by earlier
// versions that wrote each buffer as an array of numbers. A field State
// does not have is an error, as is a buffer that is neither form.
func (s *State) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j stateJSON
	if err := dec.Decode(&j); err != nil {
		return err
	}
	*s = State{Kind: j.Kind, Step: j.Step, Shapes: j.Shapes, Scalars: j.Scalars}
	if j.Buffers != nil {
		s.Buffers = make(map[string][][]float64, len(j.Buffers))
		for name, fs := range j.Buffers {
			bufs := make([][]float64, len(fs))
			for i, f := range fs {
				bufs[i] = f
			}
			s.Buffers[name] = bufs
		}
	}
	return nil
}

// float64s is one buffer in a state's JSON form, as UnmarshalJSON reads it.
type float64s []float64

// UnmarshalJSON reads a base64 string of little-endian float64 bits, or
// an array of numbers (the former format).
func (f *float64s) UnmarshalJSON(data []byte) error {
	if len(data) == 0 || data[0] != '"' {
		var xs []float64
		if err := json.Unmarshal(data, &xs); err != nil {
			return fmt.Errorf("optim: a state buffer must be a base64 string or an array of numbers: %w", err)
		}
		*f = xs
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("optim: a state buffer is not valid base64: %w", err)
	}
	if len(raw)%8 != 0 {
		return fmt.Errorf("optim: a state buffer holds %d bytes, not a whole number of float64 values (8 bytes each)", len(raw))
	}
	xs := make([]float64, len(raw)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	*f = xs
	return nil
}
