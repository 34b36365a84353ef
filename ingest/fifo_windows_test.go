package ingest

import "testing"

// mkfifo skips the test: Windows has no named pipes in the file system, and
// the tests that need one check what ingest does with one.
func mkfifo(t *testing.T, path string) {
	t.Skipf("no FIFO on Windows (%s)", path)
}
