//go:build unix && !linux

package atomicfile

import (
	"os"
	"syscall"
)

// SyncFS flushes written files to stable storage. Outside Linux there is no
// per-file-system sync, so it syncs everything.
func SyncFS(path string) error {
	syscall.Sync()
	return nil
}

// StartWriteback does nothing outside Linux.
func StartWriteback(f *os.File) {}
