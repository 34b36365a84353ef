package ingest

import (
	"io/fs"
	"os"
)

// changedSince says whether the open file f no longer has the size,
// modification time or, where the system keeps one, change time that
// before recorded. A file too big to hold in memory is read more than once
// (hashed and encrypted in one pass, stripped in another): a staff member
// who rewrites it in place between the passes, even restoring its
// modification time, would get a released photo that is not the original
// in the vault (red team, PoC 13). Only root can set a change time.
func changedSince(f *os.File, before fs.FileInfo) bool {
	fi, err := f.Stat()
	return err != nil || fi.Size() != before.Size() || !fi.ModTime().Equal(before.ModTime()) ||
		!changeTime(fi).Equal(changeTime(before))
}
