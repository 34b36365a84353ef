//go:build unix

package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSparseQuarantined: a photo made to look big with holes is
// quarantined with reason "sparse", and nothing of it reaches the vault;
// a dense file of the same size is taken (red team, PoC 10).
func TestSparseQuarantined(t *testing.T) {
	e := newEnv(t)
	holes := filepath.Join(e.inbox, "Ann/before/holes.jpg")
	put(t, e.inbox, "Ann/before/holes.jpg", sample(t, "phone-rotated6.jpg"))
	if err := os.Truncate(holes, 64<<20); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(holes); err != nil || !sparse(fi) {
		t.Skipf("this file system stores holes (%v): nothing to test", err)
	}
	dense := append(sample(t, "phone-rotated6.jpg"), make([]byte, sparseMinSize)...)
	put(t, e.inbox, "Ann/before/dense.jpg", dense)
	sum, err := e.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Quarantined != 1 || sum.Ingested != 1 {
		t.Fatalf("summary %+v, events %+v", sum, e.events)
	}
	for _, ev := range e.events {
		if ev.Kind == Quarantined && (ev.Reason != "sparse" || filepath.Base(ev.Path) != "holes.jpg") {
			t.Errorf("quarantined %s for %q, want holes.jpg for \"sparse\"", ev.Path, ev.Reason)
		}
	}
	var stored int64
	filepath.WalkDir(filepath.Join(e.v.Dir(), "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				stored += fi.Size()
			}
		}
		return nil
	})
	if stored > 2*int64(len(dense)) {
		t.Errorf("the vault holds %d bytes for a %d-byte photo", stored, len(dense))
	}
}
