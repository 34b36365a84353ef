package atomicfile

import (
	"errors"

	"golang.org/x/sys/windows"
)

// IsFull reports whether a write failed because the file system cannot take
// more: out of space, over a quota, or write-protected. Every later write to
// the same place would fail the same way, so callers stop instead of failing
// file after file.
func IsFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL) ||
		errors.Is(err, windows.ERROR_NOT_ENOUGH_QUOTA) || errors.Is(err, windows.ERROR_WRITE_PROTECT)
}
