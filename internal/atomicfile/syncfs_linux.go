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

// StartWriteback asks the kernel to begin writing f's dirty pages to disk
// now, without waiting: by the time the batch's SyncFS comes, much of the
// data is already on its way, and the wait overlaps with work on the next
// files. It is only a hint; its error is of no consequence and ignored.
func StartWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
