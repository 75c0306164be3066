package checkpoint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/genopt/gen/internal/atomicfile"
)

// WriteFileAtomic writes data to path so that path holds either its old
// content or all of data, never a part: it writes a temporary file in the
// same directory, fsyncs it, renames it over path, and fsyncs the directory
// so the rename survives a crash. The file gets mode 0644. On error the
// temporary file is removed and path is untouched.
func WriteFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v as JSON, indented unless it is longer than
// indentLimit, followed by a newline, to path with WriteFileAtomic.
func WriteJSON(path string, v any) error {
	data, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	return WriteFileAtomic(path, data)
}

func marshalJSON(v any) ([]byte, error) {
	var data []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		// Its own encoding, unscanned: json.Marshal would validate and
		// compact every byte again (for an optimizer's 4.3 MB, 19 ms
		// instead of 5: optim's BenchmarkStateJSON).
		data, err = m.MarshalJSON()
	} else {
		data, err = json.Marshal(v)
	}
	if err != nil {
		return nil, err
	}
	if len(data) <= indentLimit {
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			return nil, err
		}
		data = b.Bytes()
	}
	return append(data, '\n'), nil
}

// indentLimit is the longest JSON document written indented (1 MiB): a
// person reads configurations, rules and summaries; an optimizer's moments
// (4 MB of base64 for the MNIST MLP) nobody reads, and indenting them cost
// 40 ms per checkpoint.
const indentLimit = 1 << 20

// ReadJSON reads the JSON document in path into v (a pointer, as for
// json.Unmarshal). Fields of the file that v does not have are an error,
// so state written by a different version of a type is noticed rather than
// silently half-read; so is anything after the document.
func ReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := unmarshalJSON(data, v); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return nil
}

func unmarshalJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("invalid JSON: data after the document at byte %d", dec.InputOffset())
	}
	return nil
}
