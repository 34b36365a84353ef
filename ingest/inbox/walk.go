package inbox

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrLinkedFolder is wrapped by the error Walk and WalkRoot give fn for a
// folder that was replaced by a symbolic link after it was listed: someone
// is pointing veil somewhere else (the vault, the release folder), and the
// link is never followed.
var ErrLinkedFolder = errors.New("replaced by a symbolic link while veil read its folder; the link is not followed")

// Walk is filepath.WalkDir without its one cost that grows with the inbox:
// WalkDir reads and sorts a whole folder before it visits any of it (about
// 150 bytes a file: 15 MB for a folder of 100,000 photos). Walk reads a
// folder a few hundred entries at a time and visits them in the order the
// file system lists them. fn is called as WalkDir calls it, including a
// second call with the error for a folder that cannot be read; fs.SkipDir
// returned for a folder skips that folder only (its siblings are still
// visited, also when the folder could not be read), and returned for a file
// skips the rest of the file's folder. Like WalkDir it never follows a
// symbolic link, and more: it stays inside root even when a folder it
// listed is swapped for a link before it is read (see WalkRoot).
func Walk(root string, fn fs.WalkDirFunc) error {
	fi, err := os.Lstat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	d := fs.FileInfoToDirEntry(fi)
	if err := fn(root, d, nil); err != nil || !fi.IsDir() {
		return skipped(err)
	}
	r, err := os.OpenRoot(root)
	if err == nil {
		var now fs.FileInfo
		now, err = r.Stat(".")
		err = sameFolder(fi, now, err)
		if err != nil {
			r.Close()
		}
	}
	if err != nil {
		return skipped(fn(root, d, err))
	}
	defer r.Close()
	return skipped(readFolder(walker{r, root, fn}, ".", d))
}

// WalkRoot is Walk over the folder dir of r (a path in r; "." for r
// itself), with the paths given to fn relative to r. Every folder is opened
// through r, so the walk never leaves r, and one that is a symbolic link
// when it is opened is reported to fn with an error wrapping
// ErrLinkedFolder instead of being read.
func WalkRoot(r *os.Root, dir string, fn fs.WalkDirFunc) error {
	fi, err := r.Lstat(dir)
	if err != nil {
		return fn(dir, nil, err)
	}
	return skipped(walkEntry(walker{r, "", fn}, dir, fs.FileInfoToDirEntry(fi)))
}

// skipped is a walk's end: fs.SkipDir or fs.SkipAll from fn ends it well.
func skipped(err error) error {
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

// walker walks inside r; fn gets each path in r joined to prefix.
type walker struct {
	r      *os.Root
	prefix string
	fn     fs.WalkDirFunc
}

func (w walker) call(rel string, d fs.DirEntry, err error) error {
	name := rel
	if w.prefix != "" {
		name = filepath.Join(w.prefix, rel)
	}
	return w.fn(name, d, err)
}

func walkEntry(w walker, rel string, d fs.DirEntry) error {
	if err := w.call(rel, d, nil); err != nil || !d.IsDir() {
		if errors.Is(err, fs.SkipDir) && d.IsDir() {
			err = nil
		}
		return err
	}
	err := readFolder(w, rel, d)
	if err != nil && errors.Is(err, fs.SkipDir) {
		// A folder that cannot be read, skipped by fn: its siblings are
		// still walked (a SkipDir passed up would end the parent's listing).
		return nil
	}
	return err
}

func readFolder(w walker, rel string, d fs.DirEntry) error {
	f, err := openFolder(w.r, rel)
	if err != nil {
		return w.call(rel, d, err)
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(256)
		for _, e := range entries {
			if err := walkEntry(w, filepath.Join(rel, e.Name()), e); errors.Is(err, fs.SkipDir) {
				return nil // a file's fn skips the rest of its folder
			} else if err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return w.call(rel, d, err)
		}
	}
}

// openFolder opens the folder rel of r without following a symbolic link
// in its last element: r keeps any link inside r, and the look before and
// after the open tells a folder swapped for a link since it was listed.
func openFolder(r *os.Root, rel string) (*os.File, error) {
	li, err := r.Lstat(rel)
	if err != nil {
		return nil, err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: ErrLinkedFolder}
	}
	f, err := r.Open(rel)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err = sameFolder(li, fi, err); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sameFolder checks that the folder opened, fi, is the one looked at as li.
func sameFolder(li, fi fs.FileInfo, err error) error {
	if err != nil {
		return err
	}
	if !os.SameFile(li, fi) {
		return &fs.PathError{Op: "open", Path: li.Name(), Err: ErrLinkedFolder}
	}
	return nil
}
