package ingest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// leaveDirty opens the lookup index of v as a writer does, and leaves it
// as a crash would: marked in use.
func leaveDirty(t *testing.T, v *vault.Vault) {
	t.Helper()
	ix, err := lookup.Open(v.IndexDir(), v.LogDir())
	if err != nil {
		t.Fatal(err)
	}
	ix.Close(-1, -1)
}

// closedClean reports whether v's lookup index was closed cleanly, without
// changing it.
func closedClean(t *testing.T, v *vault.Vault) bool {
	t.Helper()
	ix, err := lookup.OpenPrivate(v.IndexDir(), v.LogDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close(-1, -1)
	return ix.WasClean()
}

// TestTableRebuilt: whatever happens to the lookup table — deleted,
// damaged, left dirty by a crash, or made from another copy of the index —
// the next run rebuilds it from the index and the log: the same photos are
// still known (a duplicate under a new name, "already" under the old one),
// the same patients keep their codes.
func TestTableRebuilt(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(v *vault.Vault, tabPath, indexPath string)
	}{
		{"deleted", func(_ *vault.Vault, tab, _ string) { os.Remove(tab) }},
		{"truncated", func(_ *vault.Vault, tab, _ string) { os.Truncate(tab, 100) }},
		{"left dirty", func(v *vault.Vault, _, _ string) { leaveDirty(t, v) }},
		{"journal replaced by another copy", func(_ *vault.Vault, _, index string) {
			b, _ := os.ReadFile(index)
			lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
			lines[len(lines)-1] += "\n"
			slices.Reverse(lines)
			os.WriteFile(index, []byte(strings.Join(lines, "")), 0o600)
		}},
		{"untouched", func(*vault.Vault, string, string) {}},
	} {
		t.Run(strings.ReplaceAll(damage.name, " ", "-"), func(t *testing.T) {
			e := newEnv(t)
			put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
			put(t, e.inbox, "Bob/after/b.png", sample(t, "clinic.png"))
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			bob := ""
			for _, ev := range e.events {
				if ev.Phase == "after" {
					bob = ev.Subject
				}
			}
			damage.do(e.v, filepath.Join(e.v.IndexDir(), "ingest.tab"), filepath.Join(e.v.IndexDir(), "ingest.idx"))
			put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))      // the same file again
			put(t, e.inbox, "Ann/before/a-copy.jpg", sample(t, "phone-rotated6.jpg")) // under a new name
			put(t, e.inbox, "Bob/before/b.webp", sample(t, "rose-exif.webp"))         // a new photo of Bob
			if _, err := e.run(t, Options{Workers: 1}); err != nil {
				t.Fatal(err)
			}
			if e.count(Already) != 1 || e.count(Duplicate) != 1 || e.count(Ingested) != 1 {
				t.Errorf("%d already, %d duplicates, %d ingested; want 1 of each (%+v)", e.count(Already), e.count(Duplicate), e.count(Ingested), e.events)
			}
			for _, ev := range e.events {
				if ev.Kind == Ingested && ev.Subject != bob {
					t.Errorf("Bob's new photo has subject %s, his first had %s", ev.Subject, bob)
				}
			}
			e.verify(t)
			if !closedClean(t, e.v) {
				t.Error("table not closed cleanly after the run")
			}
		})
	}
}

// TestNoCleaningAfterCleanClose: debris is looked for only when the last
// pipeline did not close cleanly; an unlogged blob is then removed.
func TestNoCleaningAfterCleanClose(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := e.v.Stage(context.Background(), strings.NewReader("not logged"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.CommitStaged([]*vault.Staged{st}); err != nil {
		t.Fatal(err)
	}
	p, err := New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cleaned()) != 0 {
		t.Errorf("cleaned after a clean close: %v", p.Cleaned())
	}
	p.ix.Break() // as after a failed batch
	p.Close()
	p, err = New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if c := p.Cleaned(); len(c) != 1 || c[0] != "blob "+st.Ref.Hash {
		t.Errorf("cleaned after an unclean close: %v, want the unlogged blob", c)
	}
}

// TestFailedStartLeavesTableUnclean: a pipeline whose start fails after the
// table was opened (here index.csv cannot be rewritten) must not mark the
// table clean: the next one has to look for debris again.
func TestFailedStartLeavesTableUnclean(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	leaveDirty(t, e.v) // as a crash leaves it
	csv := filepath.Join(e.release, release.IndexFile)
	os.Remove(csv)
	os.MkdirAll(filepath.Join(csv, "blocker"), 0o755) // index.csv cannot be replaced
	if p, err := New(e.v, e.lock(t), Options{Release: e.release}); err == nil {
		p.Close()
		t.Fatal("New succeeded with index.csv a folder")
	}
	if closedClean(t, e.v) {
		t.Fatal("a failed start marked the table clean")
	}
	os.RemoveAll(csv)
	p, err := New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	e.verify(t)
}
