package optim

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
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
// the MNIST MLP take 4.3 MB instead of 11.6 MB, written in a few
// milliseconds instead of ~60 ms, which a checkpoint at every epoch paid.
func (s State) MarshalJSON() ([]byte, error) {
	j := stateJSON{Kind: s.Kind, Step: s.Step, Shapes: s.Shapes, Scalars: s.Scalars}
	if s.Buffers != nil {
		j.Buffers = make(map[string][]float64s, len(s.Buffers))
		for name, bufs := range s.Buffers {
			fs := make([]float64s, len(bufs))
			for i, b := range bufs {
				fs[i] = b
			}
			j.Buffers[name] = fs
		}
	}
	return json.Marshal(j)
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

// float64s is one buffer in a state's JSON form.
type float64s []float64

// MarshalJSON writes the base64 of the values' little-endian bits.
func (f float64s) MarshalJSON() ([]byte, error) {
	raw := make([]byte, 8*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
	}
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(raw))+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, raw)
	return append(out, '"'), nil
}

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
