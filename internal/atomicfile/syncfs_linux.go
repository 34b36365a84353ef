package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// SyncFS flushes every written file on the file system that holds path to
// stable storage: one call for a whole batch of files (group commit) instead
// of an fsync per file.
func SyncFS(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
