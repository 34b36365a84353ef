//go:build unix

package ingest

import (
	"syscall"
	"testing"
)

// mkfifo makes a named pipe at path: a file ingest must quarantine, never open.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}
