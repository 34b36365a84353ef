//go:build !unix

package filekind

import (
	"io/fs"
	"os"
)

// openNoFollow on systems without O_NOFOLLOW: look at the name first, then
// check after opening that the file opened is the one looked at, so a link
// swapped in between is refused by the caller's regular-file check.
func openNoFollow(path string) (*os.File, error) {
	li, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		return nil, errSymlinkOpen
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(li, fi) {
		f.Close()
		return nil, errSymlinkOpen
	}
	return f, nil
}

// rootOpenFlags: no FIFOs here to block on.
const rootOpenFlags = os.O_RDONLY

var errSymlinkOpen = &fs.PathError{Op: "open", Err: fs.ErrInvalid}

func isSymlinkErr(err error) bool { return err == errSymlinkOpen }
