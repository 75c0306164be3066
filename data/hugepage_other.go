//go:build !linux

package data

// hugePageBytes returns a zeroed byte slice of length n (see the Linux
// version, which asks for huge pages).
func hugePageBytes(n int) []byte { return make([]byte, n) }
