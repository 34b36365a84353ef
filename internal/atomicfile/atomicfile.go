// Package atomicfile writes files durably: into a temporary file in the target
// directory, fsynced, renamed into place, and the directory fsynced, so that
// after a crash the target is either absent or complete (restic's
// internal/backend/local does the same).
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every temporary file this package creates, so
// that a later run can recognise and remove what a crash left behind.
const TempPrefix = ".veil-tmp-"

// File is a temporary file that becomes Target on Commit.
type File struct {
	*os.File
	target string
	done   bool
}

// Create opens a new temporary file beside target. The caller writes to it and
// then calls Commit, or Abort to discard it. Abort after Commit is a no-op, so
// `defer f.Abort()` is always safe.
func Create(target string, perm fs.FileMode) (*File, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, TempPrefix+sanitize(base)+"-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, target: target}, nil
}

func sanitize(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ReplaceAll(s, "*", "_")
}

// Commit fsyncs the data, renames the file to its target and fsyncs the
// directory. If noReplace is set and the target exists, it fails with
// fs.ErrExist and leaves the existing file alone.
func (f *File) Commit(noReplace bool) error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	f.done = true
	name := f.Name()
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if noReplace {
		// A hard link fails if the target exists, unlike rename, which would
		// silently replace it.
		if err := os.Link(name, f.target); err != nil {
			os.Remove(name)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: %w", f.target, fs.ErrExist)
			}
			return err
		}
		if err := os.Remove(name); err != nil {
			return err
		}
	} else if err := os.Rename(name, f.target); err != nil {
		os.Remove(name)
		return err
	}
	return SyncDir(filepath.Dir(f.target))
}

// Abort closes and removes the temporary file unless it was committed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// SyncDir fsyncs a directory so that a rename or create inside it survives a
// crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems (and platforms) cannot fsync a directory; that is not
	// a write failure.
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}

// IsTemp reports whether name (a base name) is a temporary file of this package.
func IsTemp(name string) bool { return strings.HasPrefix(name, TempPrefix) }
