package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// idxFile builds the bytes of an unsigned-byte IDX file: two zero bytes, the
// type 0x08, the number of dimensions, the sizes as big-endian uint32, then
// the data. It is written from the format description, not from ReadIDX.
func idxFile(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDX(t *testing.T) {
	// A 2×2×3 array written out byte by byte: magic 0x00000803, sizes 2, 2, 3.
	hand := []byte{
		0x00, 0x00, 0x08, 0x03,
		0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x02,
		0x00, 0x00, 0x00, 0x03,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255,
	}
	a, err := ReadIDX(bytes.NewReader(hand), "hand")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Dims, []int{2, 2, 3}) || a.Magic() != 2051 || len(a.Data) != 12 || a.Data[11] != 255 || a.Data[4] != 4 {
		t.Fatalf("got dims %v magic %d data %v, want [2 2 3], 2051, 0…10 255", a.Dims, a.Magic(), a.Data)
	}
	labels, err := ReadIDX(bytes.NewReader(idxFile([]uint32{3}, []byte{7, 2, 1})), "labels")
	if err != nil {
		t.Fatal(err)
	}
	if labels.Magic() != 2049 || !slices.Equal(labels.Data, []byte{7, 2, 1}) {
		t.Fatalf("got magic %d data %v, want 2049 [7 2 1]", labels.Magic(), labels.Data)
	}
}

func TestReadIDXErrors(t *testing.T) {
	valid := idxFile([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	tests := []struct {
		name string
		file []byte
		want string // a phrase the error must contain
	}{
		{"empty", nil, "truncated header"},
		{"short magic", []byte{0, 0, 8}, "truncated header"},
		{"nonzero first bytes", append([]byte{1, 2}, valid[2:]...), "first two bytes must be zero"},
		{"float type", append([]byte{0, 0, 0x0D}, valid[3:]...), "element type 0x0d"},
		{"zero dimensions", []byte{0, 0, 8, 0}, "0 dimensions"},
		{"too many dimensions", []byte{0, 0, 8, 17}, "17 dimensions"},
		{"truncated sizes", valid[:9], "truncated header"},
		{"zero size", idxFile([]uint32{2, 0}, nil), "dimension 1 has size 0"},
		{"huge header", idxFile([]uint32{65536, 65536, 2}, []byte{1}), "exceed"},
		{"truncated data", valid[:len(valid)-1], "needs 6 bytes of data, file has 5"},
		{"trailing data", append(slices.Clone(valid), 9), "trailing data"},
	}
	for _, tc := range tests {
		_, err := ReadIDX(bytes.NewReader(tc.file), "f.idx")
		if err == nil {
			t.Errorf("%s: ReadIDX(% x) succeeded, want an error containing %q", tc.name, tc.file, tc.want)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "data: idx: f.idx: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q, want the prefix %q and %q", tc.name, msg, "data: idx: f.idx: ", tc.want)
		}
	}
}

func TestReadIDXFileGzip(t *testing.T) {
	dir := t.TempDir()
	raw := idxFile([]uint32{4}, []byte{9, 8, 7, 6})
	gz := gzipBytes(t, raw)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{"plain.idx", "packed.gz"} {
		b := raw
		if strings.HasSuffix(name, ".gz") {
			b = gz
		}
		a, err := ReadIDXFile(write(name, b))
		if err != nil || !slices.Equal(a.Data, []byte{9, 8, 7, 6}) {
			t.Errorf("%s: got %v, %v; want data [9 8 7 6]", name, a, err)
		}
	}

	badCRC := slices.Clone(gz)
	badCRC[len(badCRC)-8] ^= 0xff // the CRC-32 is the trailer's first 4 bytes
	corrupt := slices.Clone(gz)
	for i := 12; i < len(corrupt)-8; i++ { // flip the deflate payload
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"bad checksum", badCRC, "checksum"},
		{"corrupt deflate", corrupt, "bad.gz"},
		{"truncated gzip", gz[:len(gz)-10], "bad.gz"},
		{"gzip header only", gz[:2], "gzip header"},
	}
	for _, tc := range tests {
		_, err := ReadIDXFile(write("bad.gz", tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.gz") {
			t.Errorf("%s: error %v, want one naming bad.gz and containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadIDXFile(filepath.Join(dir, "missing.gz")); err == nil || !strings.Contains(err.Error(), "missing.gz") {
		t.Errorf("missing file: error %v, want one naming missing.gz", err)
	}
}

// FuzzReadIDX feeds arbitrary bytes, raw or gzipped, to the IDX reader: it
// must return an error or an array whose data length is the product of its
// dimensions, and never panic.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxFile([]uint32{2, 2}, []byte{1, 2, 3, 4}), false)
	f.Add(idxFile([]uint32{3}, []byte{1, 2, 3}), true)
	f.Add(idxFile([]uint32{1, 1, 1}, []byte{0}), false)
	f.Add([]byte{0, 0, 8, 2, 0, 0, 0, 1}, false)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, zip bool) {
		if zip {
			b = gzipBytes(t, b)
		}
		a, err := readMaybeGzipIDX(bytes.NewReader(b), "fuzz", 1<<16, int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: idx: fuzz: ") {
				t.Fatalf("error %q lacks the prefix naming the file", err)
			}
			return
		}
		n := 1
		for _, d := range a.Dims {
			if d <= 0 {
				t.Fatalf("accepted dimension %d in %v", d, a.Dims)
			}
			n *= d
		}
		if n != len(a.Data) {
			t.Fatalf("dims %v hold %d elements, data has %d", a.Dims, n, len(a.Data))
		}
	})
}

// TestReadIDXFileSizesItsBufferByTheFile: a header announcing 500 MB in a
// file of a few bytes is refused as truncated without allocating what it
// announces (the buffer is sized up front only when the file can hold the
// data), and a real file's data, sized up front, reads back whole.
func TestReadIDXFileSizesItsBufferByTheFile(t *testing.T) {
	dir := t.TempDir()
	for _, gz := range []bool{false, true} {
		b := idxFile([]uint32{500_000_000}, []byte{1, 2, 3})
		if gz {
			b = gzipBytes(t, b)
		}
		p := filepath.Join(dir, "huge-header")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadIDXFile(p)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("gzip %v: got %v, want a truncation error", gz, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("gzip %v: reading a %d-byte file allocated %d bytes", gz, len(b), grew)
		}
	}
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	p := filepath.Join(dir, "real.gz")
	if err := os.WriteFile(p, gzipBytes(t, idxFile([]uint32{100, 1000}, data)), 0o644); err != nil {
		t.Fatal(err)
	}
	if a, err := ReadIDXFile(p); err != nil || !slices.Equal(a.Data, data) {
		t.Fatalf("real file: %v", err)
	}
}
