package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/photo"
)

// inputFile is one file named on the command line or found under a directory.
type inputFile struct {
	path string // as the user can find it
	rel  string // name for a copy: the file's base name, or for a file found in a folder, the folder's base name and the path below it
	err  error  // set when the entry cannot be processed (symlink, not a file, ...)
}

// walkInputs sends every file under the given paths to out, streaming, so
// that memory does not grow with the size of a folder. Directories recurse;
// hidden names inside them are skipped. skip, if set, names a directory that
// must not be entered (the output folder inside an input folder). It closes
// out when done.
func walkInputs(ctx context.Context, paths []string, skip string, out chan<- inputFile) error {
	defer close(out)
	send := func(f inputFile) error {
		select {
		case out <- f:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			if err := send(inputFile{path: p, rel: filepath.Base(p), err: pathError(err)}); err != nil {
				return err
			}
			continue
		}
		if !fi.IsDir() {
			if err := send(inputFile{path: p, rel: filepath.Base(p), err: checkRegular(fi)}); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return send(inputFile{path: path, rel: relTo(p, path), err: pathError(err)})
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if skip != "" && sameDir(path, skip) {
					return filepath.SkipDir
				}
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return send(inputFile{path: path, rel: relTo(p, path), err: pathError(err)})
			}
			return send(inputFile{path: path, rel: relTo(p, path), err: checkRegular(fi)})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// relTo names path as cp -r would copy it: below the base name of the
// folder it was found in, so that two folders holding the same file names
// (IMG_0001.jpg is in every camera folder) do not collide.
func relTo(base, path string) string {
	r, err := filepath.Rel(base, path)
	if err != nil {
		return filepath.Base(path)
	}
	return filepath.Join(filepath.Base(filepath.Clean(base)), r)
}

func sameDir(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// errNotRegular is the reason for refusing links, devices, FIFOs and sockets.
var errNotRegular = errors.New("not a regular file")

// errSymlink is the reason for refusing a symbolic link.
var errSymlink = fmt.Errorf("%w: it is a symbolic link, which veil does not follow (copy the photo itself)", errNotRegular)

func checkRegular(fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return errSymlink
	case !m.IsRegular():
		return fmt.Errorf("%w: it is a %s (only photo files are processed)", errNotRegular, filekind.Name(m))
	}
	return nil
}

// pathError strips the Go operation name from a path error: the file name is
// printed by the caller already.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openPhoto opens a regular file for reading without following a symlink
// swapped in after the walk, and returns it with its size.
func openPhoto(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		if errors.Is(err, errSymlinkOpen) {
			return nil, 0, errSymlink
		}
		return nil, 0, pathError(err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkRegular(fi)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// explain turns an error about one input file into a message that says what
// to do about it.
func explain(err error) string {
	var fe *photo.FormatError
	var ue *photo.UnsupportedError
	switch {
	case errors.Is(err, photo.ErrSelfCheck):
		return err.Error() + " (the original is untouched; please report this file to the veil developers)"
	case errors.As(err, &ue):
		return err.Error()
	case errors.Is(err, photo.ErrEmpty):
		return "empty file (was the copy interrupted? copy it again)"
	case errors.As(err, &fe):
		return err.Error() + "; the file is damaged or incomplete (copy it again from the camera or phone)"
	}
	return err.Error()
}
