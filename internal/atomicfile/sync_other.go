//go:build !linux

package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Outside Linux there is no syncfs(2), and sync(2) does not wait for the
// data to reach the disk (on macOS it only schedules the writes), so the
// group commit cannot lean on one call for the whole file system. Instead:
//
//   - each file's data is made durable on its own before it is named:
//     StartWriteback and File.Close call os.File.Sync, which is fsync with
//     F_FULLFSYNC on macOS (the drive's cache flushed too) and
//     FlushFileBuffers on Windows;
//   - the folders in which Publish and Rename changed names are remembered,
//     and SyncFS syncs them (on Windows the renames are write-through
//     instead, see rename_windows.go);
//   - SyncFS returns the first error of a StartWriteback since the last call,
//     so a failed sync is never taken for a durable file.
//
// So a batch is as durable after SyncFS as on Linux; only the cost differs
// (one flush per file instead of one per batch).

var pending struct {
	sync.Mutex
	err    error               // first StartWriteback failure not yet reported
	synced map[string]struct{} // names of files StartWriteback synced
	dirs   map[string]struct{} // folders whose names changed since their sync
}

// SyncFS makes durable everything written under path by this package: the
// file data was synced file by file; SyncFS reports a failure of that, then
// syncs path and every folder under it where a name was published.
func SyncFS(path string) error {
	pending.Lock()
	err := pending.err
	pending.err = nil
	// Forgetting which files were synced costs at most a second sync of a
	// file not yet closed; it keeps the set from growing with files that
	// are never closed through File.Close (the vault's blobs).
	pending.synced = nil
	var dirs []string
	for d := range pending.dirs {
		if d == filepath.Clean(path) || within(d, path) {
			dirs = append(dirs, d)
			delete(pending.dirs, d)
		}
	}
	pending.Unlock()
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if err := SyncDir(d); err != nil {
			return err
		}
	}
	return SyncDir(path)
}

// within reports whether dir lies below root.
func within(dir, root string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// StartWriteback makes f's data durable now (os.File.Sync). Its error is
// kept for the next SyncFS, which returns it.
func StartWriteback(f *os.File) {
	err := f.Sync()
	pending.Lock()
	defer pending.Unlock()
	if err != nil {
		if pending.err == nil {
			pending.err = err
		}
		return
	}
	if pending.synced == nil {
		pending.synced = make(map[string]struct{})
	}
	pending.synced[f.Name()] = struct{}{}
}

// syncBeforeClose makes f's data durable before File.Close hands it to the
// group commit, unless StartWriteback did already.
func syncBeforeClose(f *os.File) error {
	pending.Lock()
	_, done := pending.synced[f.Name()]
	delete(pending.synced, f.Name())
	pending.Unlock()
	if done {
		return nil
	}
	return f.Sync()
}
