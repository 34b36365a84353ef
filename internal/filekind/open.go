package filekind

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the errors of OpenRegular for links, devices,
// FIFOs, sockets and folders.
var ErrNotRegular = errors.New("not a regular file")

// ErrSymlink is the reason for refusing a symbolic link.
var ErrSymlink = fmt.Errorf("%w: it is a symbolic link, which veil does not follow (copy the photo itself)", ErrNotRegular)

// CheckRegular returns nil for a regular file and a wrapped ErrNotRegular,
// in words, for anything else.
func CheckRegular(m fs.FileMode) error {
	switch {
	case m&fs.ModeSymlink != 0:
		return ErrSymlink
	case !m.IsRegular():
		return fmt.Errorf("%w: it is a %s (only photo files are processed)", ErrNotRegular, Name(m))
	}
	return nil
}

// OpenRegular opens path for reading without following a symbolic link
// swapped in after the caller looked at it, and without blocking on a FIFO,
// and returns it only if it is a regular file. Errors other than the
// not-regular ones are *fs.PathError as os returns them.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, nil, ErrSymlink
		}
		return nil, nil, err
	}
	return regularOrClose(f, nil)
}

// OpenRegularIn is OpenRegular for the file name in r: it never leaves r,
// and refuses a symbolic link as the last element of name, also one swapped
// in after the caller looked (the file opened must be the one looked at).
func OpenRegularIn(r *os.Root, name string) (*os.File, fs.FileInfo, error) {
	li, err := r.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckRegular(li.Mode()); err != nil {
		return nil, nil, err
	}
	f, err := r.OpenFile(name, rootOpenFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	return regularOrClose(f, li)
}

// regularOrClose returns the open file f if it is a regular file and, when
// looked is given, the very file looked at before the open (not a link
// swapped in since); else it closes f.
func regularOrClose(f *os.File, looked fs.FileInfo) (*os.File, fs.FileInfo, error) {
	fi, err := f.Stat()
	if err == nil && looked != nil && !os.SameFile(looked, fi) {
		err = ErrSymlink
	}
	if err == nil {
		err = CheckRegular(fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// Bare strips the operation and path from a *fs.PathError: callers name
// the file themselves (or, in logs, must not).
func Bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
