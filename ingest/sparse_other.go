//go:build !unix

package ingest

import "io/fs"

// allocated is unknown here: os.Stat reports no allocation size.
func allocated(fs.FileInfo) (int64, bool) { return 0, false }
