package ingest

import (
	"path/filepath"
	"testing"
)

// TestExclude: what Exclude names, by base name or by path under the
// inbox, case ignored, is never taken, quarantined or removed, and a folder
// it names is not walked; the rest of the folder is taken as usual.
func TestExclude(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/IMG_0001.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, e.inbox, "Ann/before/IMG_0001.MOV", []byte("a Live Photo's video"))
	put(t, e.inbox, "Ann/before/IMG_0001.aae", []byte("<plist/>"))
	put(t, e.inbox, "Ann/raw/x.png", sample(t, "clinic.png"))
	sum, err := e.run(t, Options{Exclude: append([]string{"ann/RAW"}, DefaultExclude...)})
	if err != nil || sum.Ingested != 1 || sum.Excluded != 3 || sum.Quarantined != 0 || sum.Skipped != 0 {
		t.Fatalf("%+v, %v, %+v", sum, err, e.events)
	}
	for _, rel := range []string{"Ann/before/IMG_0001.MOV", "Ann/before/IMG_0001.aae", "Ann/raw/x.png"} {
		if !exists(filepath.Join(e.inbox, filepath.FromSlash(rel))) {
			t.Errorf("%s was touched", rel)
		}
	}
	for _, pat := range []string{"*.mov", "[", "a/[b"} {
		if err := CheckExclude(pat); (err != nil) != (pat != "*.mov") {
			t.Errorf("CheckExclude(%q): %v", pat, err)
		}
	}
}
