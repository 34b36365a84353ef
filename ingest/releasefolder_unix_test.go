//go:build unix

package ingest

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/veil-photo/veil/release"
)

// TestReleaseFolderModes: whatever the umask of the veil user, released
// files are 0640 and subject folders 0750, in the release folder's group;
// their times and index.csv's are the fixed releaseTime, never the time of
// the ingest, which lies close to the visit (issue 14, finding 6).
func TestReleaseFolderModes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the release folder a group of its own")
	}
	e := newEnv(t)
	const gid = 4242
	if err := os.Mkdir(e.release, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(e.release, 0, gid); err != nil {
		t.Fatal(err)
	}
	defer syscall.Umask(syscall.Umask(0o077))
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, e.inbox, "Bob/before/b.png", sample(t, "clinic.png"))
	check := func(run string) {
		n := 0
		filepath.WalkDir(e.release, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if p == e.release {
				return nil
			}
			n++
			fi, _ := d.Info()
			want := fs.FileMode(0o640)
			if d.IsDir() {
				want = fs.ModeDir | 0o750
			}
			if fi.Mode() != want || fi.Sys().(*syscall.Stat_t).Gid != gid || !fi.ModTime().Equal(releaseTime) {
				t.Errorf("%s: %s: %v gid %d %s, want %v gid %d %s", run, p, fi.Mode(), fi.Sys().(*syscall.Stat_t).Gid, fi.ModTime(), want, gid, releaseTime)
			}
			return nil
		})
		if n == 0 {
			t.Fatalf("%s: the release folder is empty", run)
		}
	}
	if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 2 {
		t.Fatalf("%+v, %v", sum, err)
	}
	check("first run")
	// Another photo of Ann: her subject folder gets a new name in it, and
	// index.csv a new row; their times stay fixed.
	put(t, e.inbox, "Ann/after/c.webp", sample(t, "rose-exif.webp"))
	if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 1 {
		t.Fatalf("%+v, %v", sum, err)
	}
	check("second run")
	if !exists(filepath.Join(e.release, release.IndexFile)) {
		t.Error("no index.csv")
	}
	e.verify(t)
}
