//go:build unix

package atomicfile

import (
	"errors"
	"syscall"
)

// IsFull reports whether a write failed because the file system cannot take
// more: out of space, over a quota, or mounted read-only. Every later write
// to the same place would fail the same way, so callers stop instead of
// failing file after file.
func IsFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}
