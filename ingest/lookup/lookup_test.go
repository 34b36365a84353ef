package lookup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	annLoose := keys.Loose("ann")
	subject, err := ix.Subject(ann, &annLoose)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ix.Subject(ann, &annLoose); again != subject {
		t.Fatalf("subject code changed within a run: %s, %s", subject, again)
	}
	// Another spelling with Ann's loose key is held, in this run already;
	// a name with a loose key of its own, or an ID, is a new patient.
	lookAlike := func(ix *Index) {
		t.Helper()
		if _, err := ix.Subject(keys.Subject("name:ánn"), &annLoose); !errors.Is(err, ErrLookAlike) {
			t.Errorf("a look-alike of ann: %v, want ErrLookAlike", err)
		}
		bob := keys.Loose("bob")
		if s, err := ix.Subject(keys.Subject("name:bob"), &bob); err != nil || s == subject {
			t.Errorf("bob: %s, %v", s, err)
		}
		if s, err := ix.Subject(keys.Subject("id:1"), nil); err != nil || s == subject {
			t.Errorf("id 1: %s, %v", s, err)
		}
	}
	lookAlike(ix)
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
		if s, _ := ix.Subject(ann, nil); s != subject {
			t.Errorf("subject %s, want %s", s, subject)
		}
		if ok, _ := ix.PhotoCommitted(photo); !ok {
			t.Error("photo not committed")
		}
		if ok, _ := ix.BlobCommitted(rec.Blob.SHA256); !ok {
			t.Error("blob not committed")
		}
		if ok, _ := ix.HasSubject(ann); !ok {
			t.Error("HasSubject(ann) is false")
		}
		lookAlike(ix)
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

// TestOldKeysRefused: a journal whose subject lines come before any "v"
// line holds keys of the older scheme (accents removed), which cannot be
// matched to today's: Open refuses it rather than give every returning
// patient a new code. A journal with the "v" line opens.
func TestOldKeysRefused(t *testing.T) {
	for _, tt := range []struct {
		journal string
		old     bool
	}{
		{"s " + hexOf("jose garcia") + " " + mustCode(t).String() + "\n", true},
		{"q " + hexOf("p") + " " + hexOf("r") + "\ns " + hexOf("jose garcia") + " " + mustCode(t).String() + "\n", true},
		{"v 2\ns " + hexOf("name:josé garcia") + " " + mustCode(t).String() + "\nl " + hexOf("jose garcia") + " " + mustCode(t).String() + "\n", false},
		{"q " + hexOf("p") + " " + hexOf("r") + "\n", false},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, journalFile), []byte(tt.journal), 0o600); err != nil {
			t.Fatal(err)
		}
		ix, err := Open(dir, filepath.Join(dir, "log"))
		if errors.Is(err, ErrOldKeys) != tt.old {
			t.Errorf("journal %q: %v", tt.journal, err)
		}
		if err == nil {
			ix.Close(-1, -1)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, journalFile), []byte("v 3\n"), 0o600)
	if _, err := Open(dir, filepath.Join(dir, "log")); err == nil || !strings.Contains(err.Error(), "newer veil") {
		t.Errorf("a newer key scheme: %v", err)
	}
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
