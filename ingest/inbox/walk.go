package inbox

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Walk is filepath.WalkDir without its one cost that grows with the inbox:
// WalkDir reads and sorts a whole folder before it visits any of it (about
// 150 bytes a file: 15 MB for a folder of 100,000 photos). Walk reads a
// folder a few hundred entries at a time and visits them in the order the
// file system lists them. fn is called as WalkDir calls it, including a
// second call with the error for a folder that cannot be read; fs.SkipDir
// returned for a folder skips that folder only (its siblings are still
// visited, also when the folder could not be read), and returned for a file
// skips the rest of the file's folder.
func Walk(root string, fn fs.WalkDirFunc) error {
	fi, err := os.Lstat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	err = walkEntry(root, fs.FileInfoToDirEntry(fi), fn)
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func walkEntry(path string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := fn(path, d, nil); err != nil || !d.IsDir() {
		if errors.Is(err, fs.SkipDir) && d.IsDir() {
			err = nil
		}
		return err
	}
	err := readFolder(path, d, fn)
	if err != nil && errors.Is(err, fs.SkipDir) {
		// A folder that cannot be read, skipped by fn: its siblings are
		// still walked (a SkipDir passed up would end the parent's listing).
		return nil
	}
	return err
}

func readFolder(path string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	f, err := os.Open(path)
	if err != nil {
		return fn(path, d, err)
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(256)
		for _, e := range entries {
			if err := walkEntry(filepath.Join(path, e.Name()), e, fn); errors.Is(err, fs.SkipDir) {
				return nil // a file's fn skips the rest of its folder
			} else if err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fn(path, d, err)
		}
	}
}
