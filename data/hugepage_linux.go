//go:build linux

package data

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageBytes returns a zeroed byte slice of length n for a large array
// read at random rows (MNIST's codes: each batch touches 128 rows spread
// over 47 MB). On Linux the 2 MiB-aligned part of it is marked
// MADV_HUGEPAGE before it is first written, so that with transparent huge
// pages enabled ("madvise" or "always", /sys/kernel/mm/transparent_hugepage)
// each row's first miss no longer walks the page tables for a new 4 KiB
// page: a batch's gather took 24–32 µs instead of 39–48 µs with 32 MB of
// other traffic between batches (BenchmarkGatherRows, "codes" against
// "codes-4k"). The advice is only a hint: when the kernel declines it, the
// slice is an ordinary one.
func hugePageBytes(n int) []byte {
	const page = 2 << 20
	if n < page {
		return make([]byte, n)
	}
	mem := make([]byte, n+page)
	off := int((page - uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%page) % page)
	b := mem[off : off+n : off+n]
	_ = unix.Madvise(b[:n/page*page], unix.MADV_HUGEPAGE) // a hint; an error leaves ordinary pages
	return b
}
