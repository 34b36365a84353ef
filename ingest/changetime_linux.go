package ingest

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime is the inode change time (st_ctime) of fi.
func changeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return time.Time{}
}
