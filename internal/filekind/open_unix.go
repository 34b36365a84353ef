//go:build unix

package filekind

import (
	"errors"
	"os"
	"syscall"
)

func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// rootOpenFlags open through an os.Root without blocking on a FIFO swapped
// in (the Root adds O_NOFOLLOW itself).
const rootOpenFlags = os.O_RDONLY | syscall.O_NONBLOCK

// isSymlinkErr: open with O_NOFOLLOW fails with ELOOP on a symlink.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }
