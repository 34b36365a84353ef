package ingest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestListAndRetryQuarantine(t *testing.T) {
	e := newEnv(t)
	if qs, err := ListQuarantine(e.inbox); err != nil || len(qs) != 0 {
		t.Fatalf("inbox without a quarantine: %v, %v", qs, err)
	}
	png := sample(t, "clinic.png")
	put(t, e.inbox, "Bob/later/d.png", png)   // unknown phase
	put(t, e.inbox, "Bob/later/e.png", png)   // unknown phase, and taken again meanwhile
	put(t, e.inbox, "loose.png", png)         // layout mismatch
	put(t, e.inbox, "Ann/pre/empty.jpg", nil) // empty
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	// A file staff put into the quarantine by hand has no reason file.
	put(t, e.inbox, ".quarantine/Cy/pre/hand.png", png)

	qs, err := ListQuarantine(e.inbox)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, q.Rel+" "+q.Reason)
		if q.Inbox != e.inbox || filepath.Base(q.Path) != filepath.Base(q.Rel) || q.Since.IsZero() {
			t.Errorf("entry %+v", q)
		}
		if q.Why == "" || q.Unknown != (q.Reason == "unknown") {
			t.Errorf("entry %+v: explanation or unknown flag wrong", q)
		}
	}
	want := []string{"Ann/pre/empty.jpg empty", "Bob/later/d.png phase", "Bob/later/e.png phase", "Cy/pre/hand.png unknown", "loose.png layout"}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	if qs[1].Size != int64(len(png)) || qs[0].Size != 0 {
		t.Errorf("sizes %d, %d", qs[1].Size, qs[0].Size)
	}

	// Retry puts a file back where it was and drops its reason file.
	dst, err := Retry(qs[1])
	if err != nil || dst != filepath.Join(e.inbox, "Bob", "later", "d.png") {
		t.Fatalf("retry: %s, %v", dst, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != string(png) || exists(qs[1].Path) || exists(qs[1].Path+ReasonSuffix) {
		t.Error("retry did not move the file and drop its reason file")
	}
	// It never replaces a file that is there again.
	put(t, e.inbox, "Bob/later/e.png", []byte("newer"))
	if _, err := Retry(qs[2]); !errors.Is(err, fs.ErrExist) {
		t.Errorf("retry over a file in the inbox: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.inbox, "Bob", "later", "e.png")); string(b) != "newer" || !exists(qs[2].Path) || !exists(qs[2].Path+ReasonSuffix) {
		t.Error("a refused retry changed something")
	}
	// A file without a reason file goes back to its place under .quarantine.
	if dst, err := Retry(qs[3]); err != nil || dst != filepath.Join(e.inbox, "Cy", "pre", "hand.png") {
		t.Errorf("retry without a reason file: %s, %v", dst, err)
	}
	// A reason file cannot send a file out of the inbox or into a hidden folder.
	for _, rel := range []string{"../out.png", "/etc/x.png", ".quarantine/x.png", "a/.hidden/x.png"} {
		q := qs[4]
		q.Rel = rel
		if _, err := Retry(q); !errors.Is(err, ErrRetryTarget) {
			t.Errorf("retry to %q: %v, want ErrRetryTarget", rel, err)
		}
	}

	// The next run takes the retried file again (and quarantines it again:
	// nobody fixed the phase).
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	if exists(dst) || !exists(qs[1].Path) {
		t.Error("the retried file was not taken by the next run")
	}
}
