//go:build unix && !linux

package atomicfile

import (
	"os"
	"path/filepath"
)

// Rename renames from to to, like os.Rename; the new name is durable after
// the next SyncFS of a folder above it.
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	noteRenamed(from, to)
	return nil
}

// link gives temp the name target, failing with fs.ErrExist if target
// exists. A hard link fails if the target exists, unlike rename, which would
// silently replace it.
func link(temp, target string) error {
	if err := os.Link(temp, target); err != nil {
		return err
	}
	noteRenamed(temp, target)
	return os.Remove(temp)
}

// noteRenamed remembers the folders of a rename for the next SyncFS above
// them. The set holds folders, not files, so it stays as small as the
// number of folders written to.
func noteRenamed(from, to string) {
	pending.Lock()
	defer pending.Unlock()
	if pending.dirs == nil {
		pending.dirs = make(map[string]struct{})
	}
	pending.dirs[filepath.Dir(filepath.Clean(from))] = struct{}{}
	pending.dirs[filepath.Dir(filepath.Clean(to))] = struct{}{}
}
