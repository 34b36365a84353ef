//go:build unix

package ingest

import (
	"io/fs"
	"syscall"
)

// fileGID returns the group of a file, and false where it has none.
func fileGID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Gid), true
}
