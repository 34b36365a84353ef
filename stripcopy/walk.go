package stripcopy

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/filekind"
)

// Input is one file named by the user or found under a folder they named.
type Input struct {
	Path string // as the user can find it
	Rel  string // name of its copy below the output folder: the file's base name, or for a file found in a folder, the folder's base name and the path below it
	Err  error  // why it cannot be processed (symbolic link, not a file, unreadable folder); nil for a regular file
}

// Walk calls fn for every file under paths, streaming, in the order given
// and, inside a folder, in lexical order, so that a scan lists a folder the
// same way every time. A path named by the user is always taken; below a
// folder, the inbox rules skip hidden files, copies in progress and system
// litter (inbox.SkipFile) and hidden folders (inbox.SkipDir), as ingest and
// watch do. skip, if not empty, names a folder that is not entered: the
// output folder inside an input folder. Walk stops and returns the error
// when fn returns one or when ctx is done.
func Walk(ctx context.Context, paths []string, skip string, fn func(Input) error) error {
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			err = fn(Input{Path: p, Rel: filepath.Base(p), Err: filekind.Bare(err)})
		} else if !fi.IsDir() {
			err = fn(Input{Path: p, Rel: filepath.Base(p), Err: filekind.CheckRegular(fi.Mode())})
		} else {
			err = walkFolder(ctx, p, skip, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func walkFolder(ctx context.Context, root, skip string, fn func(Input) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		in := Input{Path: path, Rel: relTo(root, path)}
		switch {
		case err != nil:
			in.Err = filekind.Bare(err)
			return fn(in)
		case d.IsDir():
			if (path != root && inbox.SkipDir(d.Name())) || (skip != "" && sameDir(path, skip)) {
				return filepath.SkipDir
			}
			return nil
		case inbox.SkipFile(d.Name()):
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			in.Err = filekind.Bare(err)
		} else {
			in.Err = filekind.CheckRegular(fi.Mode())
		}
		return fn(in)
	})
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
