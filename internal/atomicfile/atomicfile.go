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
	if err := f.Sync(); err != nil {
		f.Abort()
		return err
	}
	p, err := f.Close()
	if err != nil {
		return err
	}
	if err := p.Publish(noReplace); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(f.target))
}

// Close closes the temporary file and returns it as Pending, for group
// commit: many files are written and closed, one SyncFS makes all their data
// durable, and only then are they published. On Linux Close does not sync;
// elsewhere, having no syncfs, it syncs the file itself (sync_other.go).
func (f *File) Close() (*Pending, error) {
	if f.done {
		return nil, errors.New("atomicfile: close after commit or abort")
	}
	f.done = true
	name := f.Name()
	if err := syncBeforeClose(f.File); err != nil {
		f.File.Close()
		os.Remove(name)
		return nil, err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(name)
		return nil, err
	}
	return &Pending{temp: name, target: f.target}, nil
}

// Pending is a closed temporary file waiting to be published.
type Pending struct {
	temp, target string
}

// Target is the name the file will have once published.
func (p *Pending) Target() string { return p.target }

// Publish renames the temporary file to its target. It does not sync: the
// caller must have synced the data (SyncFS) before, so that the target never
// names incomplete data, and syncs again after for the name to be durable.
func (p *Pending) Publish(noReplace bool) error {
	if noReplace {
		if err := link(p.temp, p.target); err != nil {
			os.Remove(p.temp)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s: %w", p.target, fs.ErrExist)
			}
			return err
		}
		return nil
	}
	if err := Rename(p.temp, p.target); err != nil {
		os.Remove(p.temp)
		return err
	}
	return nil
}

// Discard removes the temporary file.
func (p *Pending) Discard() { os.Remove(p.temp) }

// Abort closes and removes the temporary file unless it was committed.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// SyncDir fsyncs a directory so that a rename or create inside it survives a
// crash. On Windows, where a folder can rarely be flushed, the renames of
// this package are write-through instead (rename_windows.go).
func SyncDir(dir string) error { return syncDir(dir) }

// IsTemp reports whether name (a base name) is a temporary file of this package.
func IsTemp(name string) bool { return strings.HasPrefix(name, TempPrefix) }

// WriteFile replaces target with data durably: a crash leaves either the
// old file or the new one, never a part.
func WriteFile(target string, data []byte, perm fs.FileMode) error {
	f, err := Create(target, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit(false)
}
