package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/veil-photo/veil/vault"
)

func testKey(i int) slotKey {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h := sha256.Sum256(b[:])
	return slotKey(h[:16])
}

func testValue(i int) slotValue {
	var v slotValue
	binary.LittleEndian.PutUint64(v[:], uint64(i)*7+1)
	return v
}

// TestTableGrowsAndFinds: entries of several kinds survive many doublings,
// the same key under another kind is another entry, and a clean close
// reopens valid with every entry.
func TestTableGrowsAndFinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), TableFile)
	tab, valid, err := openTable(path)
	if err != nil || valid {
		t.Fatalf("new table: valid %v, %v", valid, err)
	}
	const n = 20_000
	for i := range n {
		if err := tab.put(kindOriginal, testKey(i), testValue(i)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := tab.put(kindPhoto, testKey(i), slotValue{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if tab.hdr.bits <= minBits {
		t.Fatalf("table did not grow: %d bits", tab.hdr.bits)
	}
	if err := tab.put(kindOriginal, testKey(5), testValue(-1)); err != nil { // replace
		t.Fatal(err)
	}
	check := func(tab *table) {
		t.Helper()
		for i := range n {
			v, ok, err := tab.get(kindOriginal, testKey(i))
			want := testValue(i)
			if i == 5 {
				want = testValue(-1)
			}
			if err != nil || !ok || v != want {
				t.Fatalf("entry %d: %v %v %v", i, ok, err, v == want)
			}
			has, err := tab.has(kindPhoto, testKey(i))
			if err != nil || has != (i%3 == 0) {
				t.Fatalf("photo entry %d: %v %v", i, has, err)
			}
		}
		if _, ok, _ := tab.get(kindOriginal, testKey(n+1)); ok {
			t.Fatal("found a key never put")
		}
		if want := int64(n + (n+2)/3); tab.hdr.used != want {
			t.Fatalf("used %d, want %d", tab.hdr.used, want)
		}
	}
	check(tab)
	if err := tab.closeClean(); err != nil {
		t.Fatal(err)
	}
	tab, valid, err = openTable(path)
	if err != nil || !valid {
		t.Fatalf("reopen: valid %v, %v", valid, err)
	}
	check(tab)
	tab.close()
}

// TestTableDamage: a table left dirty, or with a damaged header, or with a
// size that does not match its header, opens invalid (empty, to rebuild);
// a damaged slot is an error, never a wrong answer.
func TestTableDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, TableFile)
	fill := func() {
		t.Helper()
		os.Remove(path)
		tab, _, err := openTable(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if err := tab.put(kindBlob, testKey(i), testValue(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tab.closeClean(); err != nil {
			t.Fatal(err)
		}
	}
	reopen := func() (*table, bool) {
		t.Helper()
		tab, valid, err := openTable(path)
		if err != nil {
			t.Fatal(err)
		}
		return tab, valid
	}

	fill()
	tab, _ := reopen()
	tab.markDirty()
	tab.close()
	if tab, valid := reopen(); valid || tab.hdr.used != 0 {
		t.Errorf("dirty table: valid %v, %d entries", valid, tab.hdr.used)
	}

	fill()
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xFF}, 30) // inside "used"
	f.Close()
	if _, valid := reopen(); valid {
		t.Error("damaged header: valid")
	}

	fill()
	os.Truncate(path, headerSize+slotSize<<minBits+slotSize)
	if _, valid := reopen(); valid {
		t.Error("wrong size: valid")
	}

	fill()
	tab, valid := reopen()
	if !valid {
		t.Fatal("clean table: invalid")
	}
	slot, found, err := tab.find(kindBlob, testKey(7))
	if !found || err != nil {
		t.Fatal(found, err)
	}
	tab.f.WriteAt([]byte{0x55}, headerSize+int64(slot)*slotSize+20)
	if _, _, err := tab.get(kindBlob, testKey(7)); !errors.Is(err, ErrTableDamaged) {
		t.Errorf("damaged slot: %v, want ErrTableDamaged", err)
	}
	tab.close()
}

// TestTableRebuilt: whatever happens to the lookup table — deleted,
// damaged, left dirty by a crash, or made from another copy of the index —
// the next run rebuilds it from the index and the log: the same photos are
// still known (a duplicate under a new name, "already" under the old one),
// the same patients keep their codes.
func TestTableRebuilt(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(tabPath, indexPath string)
	}{
		{"deleted", func(tab, _ string) { os.Remove(tab) }},
		{"truncated", func(tab, _ string) { os.Truncate(tab, 100) }},
		{"left dirty", func(tab, _ string) {
			tb, _, _ := openTable(tab)
			tb.markDirty()
			tb.close()
		}},
		{"index replaced by another copy", func(_, index string) {
			b, _ := os.ReadFile(index)
			lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
			lines[len(lines)-1] += "\n"
			slices.Reverse(lines)
			os.WriteFile(index, []byte(strings.Join(lines, "")), 0o600)
		}},
		{"untouched", func(_, _ string) {}},
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
			damage.do(filepath.Join(e.v.IndexDir(), TableFile), filepath.Join(e.v.IndexDir(), IndexFile))
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
			if tab, valid, _ := openTable(filepath.Join(e.v.IndexDir(), TableFile)); !valid {
				t.Error("table not closed cleanly after the run")
			} else {
				tab.close()
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
	p, err := New(e.v, Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cleaned()) != 0 {
		t.Errorf("cleaned after a clean close: %v", p.Cleaned())
	}
	p.broken = true // as after a failed batch
	p.Close()
	p, err = New(e.v, Options{Release: e.release})
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
	tabPath := filepath.Join(e.v.IndexDir(), TableFile)
	tab, _, _ := openTable(tabPath)
	tab.markDirty() // as a crash leaves it
	tab.close()
	csv := filepath.Join(e.release, CSVFile)
	os.Remove(csv)
	os.MkdirAll(filepath.Join(csv, "blocker"), 0o755) // index.csv cannot be replaced
	if p, err := New(e.v, Options{Release: e.release}); err == nil {
		p.Close()
		t.Fatal("New succeeded with index.csv a folder")
	}
	if tab, valid, _ := openTable(tabPath); valid {
		tab.close()
		t.Fatal("a failed start marked the table clean")
	} else {
		tab.close()
	}
	os.RemoveAll(csv)
	p, err := New(e.v, Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	e.verify(t)
}
