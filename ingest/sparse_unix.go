//go:build unix

package ingest

import (
	"io/fs"
	"syscall"
)

// allocated returns the bytes the file system stores for fi (st_blocks, in
// 512-byte units on every Unix).
func allocated(fi fs.FileInfo) (int64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(st.Blocks) * 512, true
}
