package ingest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-photo/veil/ingest/inbox"
)

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
