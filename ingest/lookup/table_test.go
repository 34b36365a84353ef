package lookup

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
	path := filepath.Join(t.TempDir(), tableFile)
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
	path := filepath.Join(dir, tableFile)
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

// TestCommittedSurvivesRebuild: the checkpoint a writer last committed is
// kept through a run that did not close cleanly and the rebuild after it,
// since the rebuilt table follows the same log; only a clean close sets a
// new one.
func TestCommittedSurvivesRebuild(t *testing.T) {
	indexDir, logDir := t.TempDir(), t.TempDir()
	c := Committed{N: 7, Root: [32]byte{1, 2, 3}}
	ix, err := Open(indexDir, logDir)
	if err != nil {
		t.Fatal(err)
	}
	ix.SetCommitted(c)
	if err := ix.Close(0, 0); err != nil {
		t.Fatal(err)
	}
	if got := LastCommitted(indexDir); got != c {
		t.Fatalf("after a clean close: %+v, want %+v", got, c)
	}
	for _, name := range []string{"an unclean close", "a rebuild"} {
		ix, err := Open(indexDir, logDir)
		if err != nil {
			t.Fatal(err)
		}
		ix.SetCommitted(Committed{N: 9})
		ix.Close(-1, -1)
		if got := LastCommitted(indexDir); got != c {
			t.Errorf("after %s: %+v, want %+v", name, got, c)
		}
	}
	if got := LastCommitted(t.TempDir()); got != (Committed{}) {
		t.Errorf("without a table: %+v", got)
	}
}
