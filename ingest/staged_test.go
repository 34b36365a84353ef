package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/manifest"
)

// TestStagedNote: the note reads back as written, and one changed by a
// byte, made with another key, or torn proves nothing: someone who can
// write the vault folder but not read its keys cannot make the cleaning
// remove a blob by naming it in a note.
func TestStagedNote(t *testing.T) {
	dir := t.TempDir()
	keys := lookup.NewKeys([]byte("index key of this host"))
	s, _, ok, err := openStaged(dir, keys)
	if err != nil || ok {
		t.Fatalf("new note: %v, %v", ok, err)
	}
	base := manifest.Checkpoint{N: 12, Hash: [32]byte{9}}
	blob := "aa00000000000000000000000000000000000000000000000000000000000000"
	if err := s.write("origin", base, []string{blob}, []string{"s/p.jpg"}); err != nil {
		t.Fatal(err)
	}
	s.close()
	good, _ := os.ReadFile(filepath.Join(dir, stagedFile))
	n, ok := parseStaged(good, keys)
	if !ok || n.origin != "origin" || n.base != base || !n.blobs[blob] || !n.released["s/p.jpg"] || len(n.blobs)+len(n.released) != 2 {
		t.Fatalf("read back %+v, %v", n, ok)
	}
	changed := bytes.Replace(good, []byte("s/p.jpg"), []byte("s/q.jpg"), 1)
	for name, b := range map[string][]byte{
		"changed":     changed,
		"torn":        good[:len(good)-3],
		"empty":       nil,
		"another key": good,
	} {
		k := keys
		if name == "another key" {
			k = lookup.NewKeys([]byte("someone else's"))
		}
		if _, ok := parseStaged(b, k); ok {
			t.Errorf("%s note accepted", name)
		}
	}
}
