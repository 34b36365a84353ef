package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// On Linux, syncfs(2) flushes every written file and directory of one file
// system: the group commit needs one call for a batch's data and one for its
// names.

// SyncFS makes durable everything written on the file system that holds
// path: the data of the files written and closed so far, and the names
// published (Publish, Rename) under it. One call serves a whole batch of files
// (group commit) instead of an fsync per file. SyncFS depends on the OS:
// on Linux it is syncfs(2) for the whole file system; elsewhere the files were
// synced one by one already and it syncs the folders where names changed (see
// sync_other.go).
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
// files. On Linux it is only a hint; its error is of no consequence and
// ignored. Elsewhere it makes f's data durable, and an error is returned by
// the next SyncFS.
func StartWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// syncBeforeClose is a no-op on Linux: SyncFS covers the file.
func syncBeforeClose(f *os.File) error { return nil }

// Rename renames from to to, like os.Rename; the new name is durable after
// the next SyncFS of a folder above it.
func Rename(from, to string) error { return os.Rename(from, to) }

// link gives temp the name target, failing with fs.ErrExist if target
// exists. A hard link fails if the target exists, unlike rename, which would
// silently replace it.
func link(temp, target string) error {
	if err := os.Link(temp, target); err != nil {
		return err
	}
	return os.Remove(temp)
}
