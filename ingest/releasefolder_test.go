package ingest

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/veil-photo/veil/ingest/inbox"
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

// TestEmptiedFoldersRemoved: the patient and phase folders that veil took
// the last photo from are removed, since their names are patients' names
// and their times tell when the photos were taken; a folder with anything
// left in it stays, and so does the inbox itself, and with KeepSource
// nothing is removed.
func TestEmptiedFoldersRemoved(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, e.inbox, "Ann/after/b.png", sample(t, "clinic.png"))
	put(t, e.inbox, "Bob/before/c.webp", sample(t, "rose-exif.webp"))
	put(t, e.inbox, "Bob/.DS_Store", nil)
	put(t, e.inbox, "Cid/before/x.jpg", nil) // empty: quarantined
	put(t, e.inbox, "Cid/before/y.png", append(sample(t, "clinic.png"), 1))
	if _, err := e.run(t, Options{KeepSource: true}); err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(e.inbox, "Ann/before/a.jpg")) {
		t.Fatal("KeepSource: the source was removed")
	}
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]bool{
		"Ann": false, "Bob/before": false, "Bob/.DS_Store": true, "Cid": false, ".quarantine/Cid/before/x.jpg": true,
	} {
		if got := exists(filepath.Join(e.inbox, filepath.FromSlash(rel))); got != want {
			t.Errorf("%s: there %v, want %v", rel, got, want)
		}
	}
	// The inbox itself stays, even empty.
	os.Remove(filepath.Join(e.inbox, "Bob/.DS_Store"))
	put(t, e.inbox, "Dan/before/d.jpg", append(sample(t, "phone-rotated6.jpg"), 7))
	os.RemoveAll(filepath.Join(e.inbox, inbox.QuarantineDir))
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(e.inbox); err != nil || len(entries) != 1 || entries[0].Name() != "Bob" {
		t.Errorf("inbox after the last run: %v, %v", entries, err)
	}
}
