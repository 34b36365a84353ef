package stats

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/testlog"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// newVault makes a vault whose log holds three photos of two subjects, a
// duplicate, a quarantine and a reveal, written through manifest and
// custody as ingest and reveal write them.
func newVault(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "vault")
	pass := []byte("correct horse battery staple")
	v, err := vault.Init(dir, filepath.Join(root, "custodian.age"), vault.InitOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	id, err := vault.LoadCustodian(filepath.Join(root, "custodian.age"), pass)
	if err != nil {
		t.Fatal(err)
	}
	recipients, err := v.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := manifest.Seal(manifest.Detail{Path: "inbox/Jane Doe/before/a.jpg", Name: "a.jpg", SHA256: strings.Repeat("ef", 32), Size: 1, ModTime: time.Now()}, recipients)
	if err != nil {
		t.Fatal(err)
	}
	subjects := []code.Code{mustCode(t), mustCode(t)}
	var recs []manifest.Record
	var first string
	for i, s := range []code.Code{subjects[0], subjects[0], subjects[1]} {
		photo := mustCode(t).String()
		if i == 0 {
			first = photo
		}
		recs = append(recs, &manifest.Ingest{Photo: photo, Subject: s.String(), Phase: "before", Format: "jpeg",
			Released: manifest.Released{Path: s.String() + "/" + photo + ".jpg", SHA256: strings.Repeat("ab", 32), Size: 10, Width: 4, Height: 3},
			Blob:     manifest.BlobInfo{SHA256: strings.Repeat("cd", 32), Size: int64(100 * (i + 1))}, Time: time.Now(), Sealed: sealed})
	}
	recs = append(recs, &manifest.Duplicate{Of: first, Time: time.Now(), Sealed: sealed},
		&manifest.Quarantine{Reason: "phase", Time: time.Now(), Sealed: sealed})
	testlog.Append(t, v, recs)
	cv, err := custody.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cv.Reveal(context.Background(), id, custody.Request{Codes: subjects, Reason: "Jane Doe asked"}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustCode(t *testing.T) code.Code {
	c, err := code.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func read(t *testing.T, dir string) (*Stats, error) {
	t.Helper()
	v, err := vault.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Read(context.Background(), v)
}

func TestReadCountsTheLog(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	before := time.Now().Add(-time.Minute)
	s, err := read(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	records, err := os.Stat(filepath.Join(dir, "log", manifest.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 6 || s.Photos != 3 || s.Subjects != 2 || s.Duplicates != 1 || s.Quarantines != 1 ||
		s.Accesses != 1 || s.BlobBytes != 600 || s.LogBytes != records.Size() {
		t.Errorf("stats %+v, want 6 records: 3 photos of 2 subjects, 1 duplicate, 1 quarantine, 1 access, 600 blob bytes, %d log bytes", s, records.Size())
	}
	if a := s.LastAccess; a == nil || a.Record != 5 || a.Action != manifest.ActionReveal || a.Codes != 2 || a.Time.Before(before) {
		t.Errorf("last access %+v, want the reveal of 2 codes at record 5", a)
	}
	if c := s.Checkpoint; c == nil || c.Size != 6 || !c.Covers || c.Root == "" || c.Written.Before(before) {
		t.Errorf("checkpoint %+v, want a fresh one covering the 6 records", c)
	}
}

func TestReadNoticesWhatItCannotTrust(t *testing.T) {
	t.Parallel()
	dir := newVault(t)
	records := filepath.Join(dir, "log", manifest.RecordsFile)
	b, err := os.ReadFile(records)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")

	// A record beyond the checkpoint (here a copy of the first) is counted,
	// and the checkpoint says it does not cover the log.
	if err := os.WriteFile(records, []byte(string(b)+lines[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := read(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Records != 7 || s.Checkpoint.Size != 6 || s.Checkpoint.Covers {
		t.Errorf("records %d, checkpoint %+v: want 7 records and a checkpoint of 6 that does not cover them", s.Records, s.Checkpoint)
	}

	// A record that does not parse stops stats and names the record.
	if err := os.WriteFile(records, []byte(strings.Replace(string(b), `"phase":"before"`, `"phase":"later"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var se *manifest.SchemaError
	if _, err := read(t, dir); !errors.As(err, &se) || !strings.Contains(err.Error(), "record 0:") {
		t.Errorf("damaged record: %v, want a *manifest.SchemaError naming record 0", err)
	}

	// A checkpoint not signed by the vault's log key is refused.
	cp := filepath.Join(dir, "log", manifest.CheckpointFile)
	msg, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte(strings.Replace(string(msg), "\n6\n", "\n5\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := read(t, dir); !errors.Is(err, ErrCheckpointSignature) {
		t.Errorf("forged checkpoint: %v, want ErrCheckpointSignature", err)
	}

	// A vault with an empty log has no checkpoint and no access.
	if err := os.Remove(cp); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(records); err != nil {
		t.Fatal(err)
	}
	if s, err := read(t, dir); err != nil || s.Checkpoint != nil || s.LastAccess != nil || s.Records != 0 {
		t.Errorf("empty log: %+v, %v", s, err)
	}
}
