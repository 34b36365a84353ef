package lookup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"golang.org/x/mod/sumdb/note"
)

// TestIndexFollowsCommits: a subject keeps its code, a committed original
// is found (seen from its own path, a duplicate from another), the index
// reopens clean only if closed at the log's end, and a rebuild from the
// journal and the log answers the same.
func TestIndexFollowsCommits(t *testing.T) {
	dir := t.TempDir()
	indexDir, logDir := filepath.Join(dir, "index"), filepath.Join(dir, "log")
	if err := os.Mkdir(indexDir, 0o700); err != nil {
		t.Fatal(err)
	}
	origin := "veil/" + mustCode(t).String()
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	log, err := manifest.Open(logDir, origin, signer)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := manifest.Seal(manifest.Detail{Path: "/inbox/Ann/before/a.jpg", Name: "a.jpg", Size: 1}, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}

	keys := NewKeys([]byte("index key"))
	ann, orig, path := keys.Subject("ann"), keys.Original(sha256.Sum256([]byte("a"))), keys.Path("/inbox/Ann/before/a.jpg")
	ix, err := Open(indexDir, logDir)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := ix.Subject(ann)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ix.Subject(ann); again != subject {
		t.Fatalf("subject code changed within a run: %s, %s", subject, again)
	}
	photo := mustCode(t)
	e := ix.Entries()
	e.Original(orig, photo, path, ann)
	if err := ix.Append(e); err != nil {
		t.Fatal(err)
	}
	if _, found, _, _ := ix.Find(orig, path); found {
		t.Fatal("found before its record is committed")
	}
	rec := &manifest.Ingest{Photo: photo.String(), Subject: subject.String(), Phase: "before", Format: "jpeg",
		Released: manifest.Released{Path: subject.String() + "/" + photo.String() + ".jpg", SHA256: hexOf("released"), Size: 10, Width: 1, Height: 1},
		Blob:     manifest.BlobInfo{SHA256: hexOf("blob"), Size: 20}, Time: time.Now().UTC().Truncate(time.Second), Sealed: sealed}
	first, err := log.Append([]manifest.Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Follow(e, []manifest.Record{rec}, first); err != nil {
		t.Fatal(err)
	}
	check := func(ix *Index) {
		t.Helper()
		if got, found, seen, err := ix.Find(orig, path); err != nil || !found || !seen || got != photo {
			t.Errorf("Find from its own path: %s %v %v %v", got, found, seen, err)
		}
		if _, found, seen, _ := ix.Find(orig, keys.Path("/elsewhere.jpg")); !found || seen {
			t.Errorf("Find from another path: found %v, seen %v", found, seen)
		}
		if s, _ := ix.Subject(ann); s != subject {
			t.Errorf("subject %s, want %s", s, subject)
		}
		if ok, _ := ix.PhotoCommitted(photo); !ok {
			t.Error("photo not committed")
		}
		if ok, _ := ix.BlobCommitted(rec.Blob.SHA256); !ok {
			t.Error("blob not committed")
		}
	}
	check(ix)
	if err := ix.Close(log.Size(), log.RecordsSize()); err != nil {
		t.Fatal(err)
	}

	ix, err = Open(indexDir, logDir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.WasClean() {
		t.Error("closed at the log's end, reopened unclean")
	}
	check(ix)
	ix.Close(-1, -1) // as a crash leaves it
	ix, err = Open(indexDir, logDir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.WasClean() {
		t.Error("left in use, reopened clean")
	}
	check(ix) // rebuilt from the journal and the log
	ix.Close(log.Size(), log.RecordsSize())
}

func mustCode(t *testing.T) code.Code {
	t.Helper()
	c, err := code.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hexOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
