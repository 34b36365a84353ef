package ingest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/manifest"
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

// crashAtCommit runs a pass that stops at the commit point of its first
// batch as a crash there does: the batch's blobs and released files named,
// its records not appended. (The hook saves them, the failed batch's undo
// removes them, and they are put back.) It returns their paths.
func crashAtCommit(t *testing.T, e *env) []string {
	t.Helper()
	saved := map[string][]byte{}
	hook := func(step Step, _ string) error {
		if step != StepCommit {
			return nil
		}
		for _, dir := range []string{filepath.Join(e.v.Dir(), "blobs"), e.release} {
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					b, _ := os.ReadFile(p)
					saved[p] = b
				}
				return nil
			})
		}
		return errors.New("killed")
	}
	if _, err := e.run(t, Options{Hook: hook}); err == nil {
		t.Fatal("the run did not stop at the commit point")
	}
	var debris []string
	for p, b := range saved {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			if err := os.WriteFile(p, b, 0o640); err != nil {
				t.Fatal(err)
			}
			debris = append(debris, p)
		}
	}
	slices.Sort(debris)
	return debris
}

// TestCleaningRemovesOnlyProvenDebris: debris is looked for only when the
// last pipeline did not close cleanly, and a blob or released file that no
// record names is removed only when this host's note of its unfinished
// batch names it. Any other (here a blob put there by hand) refuses the
// run, and nothing at all is removed: red team poc7 and poc8 made the
// cleaning destroy originals by rolling back or swapping the log.
func TestCleaningRemovesOnlyProvenDebris(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	put(t, e.inbox, "Bob/after/b.png", sample(t, "clinic.png"))
	debris := crashAtCommit(t, e)
	if len(debris) != 2 {
		t.Fatalf("the crash left %v, want a blob and a released file", debris)
	}

	st, err := e.v.Stage(context.Background(), strings.NewReader("not logged"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.CommitStaged([]*vault.Staged{st}); err != nil {
		t.Fatal(err)
	}
	stray := e.v.BlobPath(st.Ref.Hash)
	_, err = New(e.v, e.lock(t), Options{Release: e.release})
	var ue *UnloggedError
	if !errors.As(err, &ue) || !errors.Is(err, manifest.ErrInconsistent) || ue.Blobs != 1 || ue.Released != 0 ||
		!strings.Contains(err.Error(), st.Ref.Hash) || !strings.Contains(err.Error(), "nothing was removed") {
		t.Fatalf("New with a blob no batch staged: %v", err)
	}
	for _, p := range append(debris, stray) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a refused start removed %s", p)
		}
	}

	os.Remove(stray) // someone looked, and removed what they put there
	p, err := New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Cleaned(); len(c) != 2 {
		t.Errorf("cleaned %v, want the crashed batch's blob and released file", c)
	}
	for _, p := range debris {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("debris %s not removed", p)
		}
	}
	p.Close()

	// After a clean close nothing is looked for: the hand-put blob stays.
	st, err = e.v.Stage(context.Background(), strings.NewReader("not logged either"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.CommitStaged([]*vault.Staged{st}); err != nil {
		t.Fatal(err)
	}
	p, err = New(e.v, e.lock(t), Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cleaned()) != 0 {
		t.Errorf("cleaned after a clean close: %v", p.Cleaned())
	}
	p.Close()
	os.Remove(e.v.BlobPath(st.Ref.Hash))
	if _, err := e.run(t, Options{}); err != nil || e.count(Ingested) != 1 {
		t.Fatalf("Bob's photo after recovery: %v, %+v", err, e.events)
	}
	e.verify(t)
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
