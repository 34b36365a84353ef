package ingest

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Folder is a folder veil writes (the release folder, the vault, a
// gallery), as the user named it: Name says which ("--out"), Path where.
type Folder struct {
	Name, Path string
}

// ApartError says that a folder veil writes and an inbox overlap: the
// release would be walked as inbox files (and quarantined), or the inbox's
// patient folders would be handed out with the release or kept in the vault
// folder.
type ApartError struct {
	Folder Folder
	Inbox  string
	Inside bool // the folder is inside the inbox; else the inbox is inside the folder
}

func (e *ApartError) Error() string {
	if e.Inside {
		return fmt.Sprintf("%s %s is inside the inbox %s: veil would take its own files as photos; put it outside every inbox", e.Folder.Name, e.Folder.Path, e.Inbox)
	}
	return fmt.Sprintf("the inbox %s is inside %s %s: patients' folders would sit among what veil writes; put the inbox outside it", e.Inbox, e.Folder.Name, e.Folder.Path)
}

// CheckApart returns an *ApartError if a folder veil writes lies in an inbox
// or an inbox in it, symbolic links resolved. Folders with no path are not
// checked.
func CheckApart(inboxes []string, folders ...Folder) error {
	for _, in := range inboxes {
		inReal := realPath(in)
		for _, f := range folders {
			if f.Path == "" {
				continue
			}
			p := realPath(f.Path)
			switch {
			case within(p, inReal):
				return &ApartError{Folder: f, Inbox: in, Inside: true}
			case within(inReal, p):
				return &ApartError{Folder: f, Inbox: in}
			}
		}
	}
	return nil
}

// Overlap reports whether the folders a and b are one, or one lies in the
// other, symbolic links resolved; they need not exist yet.
func Overlap(a, b string) bool {
	ra, rb := realPath(a), realPath(b)
	return within(ra, rb) || within(rb, ra)
}

// realPath is p absolute, with symbolic links resolved as far as it exists
// (the release folder may not exist yet).
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(realPath(parent), filepath.Base(abs))
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
