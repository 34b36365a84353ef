//go:build unix && !linux

package atomicfile

import "syscall"

// SyncFS flushes written files to stable storage. Outside Linux there is no
// per-file-system sync, so it syncs everything.
func SyncFS(path string) error {
	syscall.Sync()
	return nil
}
