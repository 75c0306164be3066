//go:build !linux

package checkpoint

// exchange is not available outside Linux: Save falls back to two renames
// (the old checkpoint aside, the new one in), between which a reader can
// find the directory missing; readVerified retries across that gap.
func exchange(a, b string) error { return errNoExchange }
