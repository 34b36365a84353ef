package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
)

// releaseGroup is the group of the release folder, which its files and
// subject folders get too, so that whoever the folder is shared with (its
// group) can read them: on a setgid folder they get it by themselves,
// otherwise veil gives it, which needs the veil user to be in that group.
type releaseGroup struct{ gid int } // -1: the platform has no groups

// probeRelease checks that veil can write into the release folder dir and
// give its files the folder's group, and returns that group.
func probeRelease(dir string) (releaseGroup, error) {
	g := releaseGroup{gid: -1}
	fi, err := os.Stat(dir)
	if err != nil {
		return g, filekind.Bare(err)
	}
	if gid, ok := fileGID(fi); ok {
		g.gid = gid
	}
	f, err := os.CreateTemp(dir, atomicfile.TempPrefix+"probe-*")
	if err != nil {
		return g, filekind.Bare(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := g.fchown(f); err != nil {
		name := strconv.Itoa(g.gid)
		if gr, err := user.LookupGroupId(name); err == nil {
			name = gr.Name
		}
		return g, fmt.Errorf("cannot give its files its group %s: %w (add the veil user to that group, or make the folder setgid with chmod g+s; see docs/permissions.md)", name, filekind.Bare(err))
	}
	return g, nil
}

// fchown gives f the release folder's group, unless it has it.
func (g releaseGroup) fchown(f *os.File) error {
	if g.gid < 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if gid, ok := fileGID(fi); ok && gid == g.gid {
		return nil
	}
	return f.Chown(-1, g.gid)
}

// lchown gives the file or folder at path the release folder's group.
func (g releaseGroup) lchown(path string, fi fs.FileInfo) error {
	if gid, ok := fileGID(fi); g.gid < 0 || ok && gid == g.gid {
		return nil
	}
	return os.Lchown(path, -1, g.gid)
}

// subjectDir makes a subject folder of the release folder, if it is not
// there yet, with the release folder's mode, group and fixed time.
func (c *vaultCommitter) subjectDir(dir string) error {
	err := os.Mkdir(dir, releaseDirMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.group.fix(dir, releaseDirMode)
}

// fix gives the file or folder at path mode (keeping a folder's setgid
// bit), the release folder's group and the fixed time.
func (g releaseGroup) fix(path string, mode fs.FileMode) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if err := g.lchown(path, fi); err != nil {
		return err
	}
	// Only if needed: a chmod by a user outside the folder's group clears
	// the setgid bit that a folder inherits from a setgid release folder.
	if fi.Mode().Perm() != mode {
		if err := os.Chmod(path, mode|fi.Mode()&fs.ModeSetgid); err != nil {
			return err
		}
	}
	return os.Chtimes(path, releaseTime, releaseTime)
}

// touchSubjects sets the time of the subject folders that the batch's
// released files were just named in back to the fixed time: naming a file
// in a folder sets the folder's time to now.
func (c *vaultCommitter) touchSubjects(batch []result) error {
	done := map[string]bool{}
	for _, r := range batch {
		if r.pending == nil {
			continue
		}
		dir := filepath.Dir(r.pending.Target())
		if done[dir] {
			continue
		}
		done[dir] = true
		if err := os.Chtimes(dir, releaseTime, releaseTime); err != nil {
			return err
		}
	}
	return nil
}
