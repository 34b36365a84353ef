//go:build !unix

package ingest

import "io/fs"

// fileGID: files have no Unix group here (Windows: access is by ACL, which
// the release folder's own ACL gives new files; see docs/windows.md).
func fileGID(fs.FileInfo) (int, bool) { return -1, false }
