package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IDX is an array read from an IDX file (the format of the MNIST files, LeCun
// et al.): a big-endian header
//
//	bytes 0–1  zero
//	byte  2    element type (0x08: unsigned byte, the only type read here)
//	byte  3    number of dimensions d
//	then d big-endian uint32 sizes,
//
// followed by the elements in row-major order. The first four bytes read as
// one big-endian integer are the "magic number": 2051 (0x0803) for a 3-d
// image file, 2049 (0x0801) for a 1-d label file.
type IDX struct {
	// Dims holds the d sizes from the header.
	Dims []int
	// Data holds the product of Dims elements, row-major.
	Data []byte
}

// Magic returns the magic number of an unsigned-byte IDX array: 0x0800 + d.
func (a *IDX) Magic() uint32 { return 0x0800 + uint32(len(a.Dims)) }

// MaxIDXBytes bounds the number of elements an IDX header may announce (the
// MNIST training images hold 47 040 000); a larger header is reported as
// corrupt rather than trusted.
const MaxIDXBytes = 1 << 30

// idxTypeUbyte is the element-type code of unsigned bytes.
const idxTypeUbyte = 0x08

// ReadIDX parses an uncompressed IDX array from r. name is the file name used
// in error messages. It validates the header (zero bytes, element type,
// 1 ≤ d ≤ 16, every size ≥ 1, total ≤ MaxIDXBytes), that exactly that many
// elements follow, and that nothing follows them. Allocation grows with the
// bytes actually read, not with the sizes a header claims.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDX(r, name, MaxIDXBytes, 0)
}

// readIDX is ReadIDX with the element limit as a parameter (the fuzz test
// lowers it, so that a gzip bomb announcing a gigabyte stays cheap), and
// most, the most bytes the source can hold (0: unknown): when the header's
// size fits in it, the buffer is sized once instead of grown by doubling,
// which cleared and copied ~90 MB for the MNIST training images (0.4 s).
// A header larger than what the file can hold still costs only what is read.
func readIDX(r io.Reader, name string, limit uint64, most int64) (*IDX, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, idxErr(name, "truncated header: %v", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, idxErr(name, "bad magic number %d: the first two bytes must be zero (not an IDX file?)", binary.BigEndian.Uint32(head[:]))
	}
	if head[2] != idxTypeUbyte {
		return nil, idxErr(name, "element type 0x%02x is not supported (want 0x08, unsigned byte)", head[2])
	}
	d := int(head[3])
	if d < 1 || d > 16 {
		return nil, idxErr(name, "magic number %d announces %d dimensions, want 1 to 16", binary.BigEndian.Uint32(head[:]), d)
	}
	sizes := make([]byte, 4*d)
	if _, err := io.ReadFull(r, sizes); err != nil {
		return nil, idxErr(name, "truncated header: want %d dimension sizes: %v", d, err)
	}
	a := &IDX{Dims: make([]int, d)}
	total := 1
	for i := range d {
		s := binary.BigEndian.Uint32(sizes[4*i:])
		if s == 0 {
			return nil, idxErr(name, "dimension %d has size 0", i)
		}
		if uint64(total)*uint64(s) > limit {
			return nil, idxErr(name, "dimension sizes %v exceed %d elements (corrupt header?)", append(a.Dims[:i], int(s)), limit)
		}
		a.Dims[i] = int(s)
		total *= int(s)
	}
	// Read one byte beyond what the header announces to detect trailing data.
	var buf bytes.Buffer
	if int64(total) < most {
		buf.Grow(total + 1)
	}
	if _, err := io.Copy(&buf, io.LimitReader(r, int64(total)+1)); err != nil {
		return nil, idxErr(name, "reading the %d bytes of shape %v: %v (truncated or corrupt file?)", total, a.Dims, err)
	}
	switch got := buf.Len(); {
	case got < total:
		return nil, idxErr(name, "truncated: shape %v needs %d bytes of data, file has %d", a.Dims, total, got)
	case got > total:
		return nil, idxErr(name, "trailing data after the %d bytes of shape %v", total, a.Dims)
	}
	a.Data = buf.Bytes()
	return a, nil
}

// ReadIDXFile reads an IDX array from the file at path, decompressing it if
// it starts with the gzip magic bytes (the MNIST files are .gz). A corrupt
// gzip stream (bad checksum, truncated) is an error naming the file.
func ReadIDXFile(path string) (*IDX, error) {
	return readIDXFile(path, MaxIDXBytes)
}

// readIDXFile is ReadIDXFile with the element limit as a parameter: loaders
// of a known format (LoadMNIST) pass a bound much tighter than MaxIDXBytes.
func readIDXFile(path string, limit uint64) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: idx: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return readMaybeGzipIDX(f, filepath.Base(path), limit, size)
}

// maxDeflateRatio bounds how many bytes deflate can expand one byte into
// (258-byte matches coded in about two bits: 1032:1, RFC 1951).
const maxDeflateRatio = 1032

// readMaybeGzipIDX parses r as IDX, gunzipping it first when it starts with
// the gzip magic 0x1f 0x8b. size is r's length in bytes (0: unknown).
func readMaybeGzipIDX(r io.Reader, name string, limit uint64, size int64) (*IDX, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return readIDX(br, name, limit, size)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, idxErr(name, "bad gzip header: %v", err)
	}
	zr.Multistream(false)
	a, err := readIDX(zr, name, limit, maxDeflateRatio*size)
	if err != nil {
		return nil, err
	}
	// ReadIDX stopped one byte past the data; make gzip verify its checksum.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, idxErr(name, "corrupt gzip stream: %v", err)
	}
	if err := zr.Close(); err != nil {
		return nil, idxErr(name, "corrupt gzip stream: %v", err)
	}
	return a, nil
}

func idxErr(name, format string, args ...any) error {
	return errors.New("data: idx: " + name + ": " + fmt.Sprintf(format, args...))
}
