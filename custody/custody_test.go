package custody

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/testlog"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// fixture is a real vault: originals encrypted by vault.Put, and ingest and
// duplicate records written through the manifest package, as ingest would.
type fixture struct {
	dir       string
	id        *vault.Custodian
	subject   code.Code
	photos    []code.Code
	originals map[code.Code][]byte
	names     map[code.Code]string // sealed original names
}

var samples = []string{"clinic.png", "phone-rotated6.jpg", "rose-exif.webp"}

// newFixture logs one subject with a photo per sealed name (cycling through
// the sample files), and a duplicate of the first photo.
func newFixture(t *testing.T, names ...string) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{dir: filepath.Join(root, "vault"), originals: map[code.Code][]byte{}, names: map[code.Code]string{}}
	pass := []byte("correct horse battery staple")
	v, err := Init(f.dir, filepath.Join(root, "custodian.age"), vault.InitOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if f.id, err = vault.LoadCustodian(filepath.Join(root, "custodian.age"), pass); err != nil {
		t.Fatal(err)
	}
	recipients, err := v.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	f.subject = newCode(t)
	seal := func(d manifest.Detail) string {
		s, err := manifest.Seal(d, recipients)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var recs []manifest.Record
	for i, name := range names {
		sample := samples[i%len(samples)]
		orig, err := os.ReadFile(filepath.Join("..", "testdata", "photos", sample))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := v.Put(context.Background(), bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		photo := newCode(t)
		ext := strings.TrimPrefix(filepath.Ext(sample), ".")
		recs = append(recs, &manifest.Ingest{Photo: photo.String(), Subject: f.subject.String(), Phase: "before", Format: ext,
			Released: manifest.Released{Path: f.subject.String() + "/" + photo.String() + "." + ext,
				SHA256: strings.Repeat("ab", 32), Size: 1, Width: 64, Height: 48},
			Blob: manifest.BlobInfo{SHA256: ref.Hash, Size: ref.Size}, Time: time.Now(),
			Sealed: seal(manifest.Detail{Path: "inbox/MRN-4711/before/" + name, Name: name, PatientKey: "MRN-4711",
				SHA256: ref.PlainSHA256, Size: ref.PlainSize, ModTime: time.Now()})})
		f.photos = append(f.photos, photo)
		f.originals[photo] = orig
		f.names[photo] = name
	}
	recs = append(recs, &manifest.Duplicate{Of: f.photos[0].String(), Time: time.Now(),
		Sealed: seal(manifest.Detail{Path: "inbox/MRN-4711/again/copy.png", Name: "copy.png", PatientKey: "MRN-4711",
			SHA256: strings.Repeat("cd", 32), Size: 1, ModTime: time.Now()})})
	testlog.Append(t, v, recs)
	return f
}

func newCode(t *testing.T) code.Code {
	c, err := code.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) open(t *testing.T) *Vault {
	t.Helper()
	cv, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// records returns the log's records as they are on disk.
func (f *fixture) records(t *testing.T) []manifest.Record {
	t.Helper()
	var recs []manifest.Record
	err := manifest.Scan(filepath.Join(f.dir, "log"), func(i int64, line []byte) error {
		r, err := manifest.Parse(line)
		recs = append(recs, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkLogged fails unless the log on disk ends with a custodian-signed
// access record for codes at index record, covered by the signed checkpoint.
func (f *fixture) checkLogged(t *testing.T, record int64, action, reason string, codes ...code.Code) {
	t.Helper()
	recs := f.records(t)
	if int64(len(recs)) != record+1 {
		t.Fatalf("log has %d records, want the access as the last, record %d", len(recs), record)
	}
	a, ok := recs[record].(*manifest.Access)
	if !ok {
		t.Fatalf("record %d is %T, want an access record", record, recs[record])
	}
	var want []string
	for _, c := range codes {
		want = append(want, c.String())
	}
	if a.Action != action || a.Reason != reason || !slices.Equal(a.Codes, want) {
		t.Errorf("access record %+v, want %s of %v for %q", a, action, want, reason)
	}
	if err := manifest.VerifyAccess(a, []ed25519.PublicKey{f.id.Verifier()}); err != nil {
		t.Errorf("access record signature: %v", err)
	}
	v, err := vault.OpenReadOnly(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	lv, err := v.LogVerifier()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := os.ReadFile(filepath.Join(f.dir, "log", manifest.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := manifest.OpenCheckpoint(msg, v.Origin(), lv)
	if err != nil || cp.N != record+1 {
		t.Errorf("checkpoint on disk covers %d records (%v), want %d", cp.N, err, record+1)
	}
}

func TestRevealIsLoggedBeforeAnythingDecrypts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "IMG_0001.png", "IMG_0002.jpg", "IMG_0003.webp")
	cv := f.open(t)
	req := Request{Codes: []code.Code{f.photos[1], f.subject}, Reason: "patient request #12"}
	r, err := cv.Reveal(context.Background(), f.id, req)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is decrypted yet: the grant exists only because the record,
	// its hash and the checkpoint are already on disk.
	f.checkLogged(t, r.Record, manifest.ActionReveal, req.Reason, req.Codes...)

	if len(r.Matches) != 2 || r.Matches[0].Subject() || !r.Matches[1].Subject() ||
		len(r.Matches[0].Photos) != 1 || len(r.Matches[1].Photos) != 3 {
		t.Fatalf("matches: %+v", r.Matches)
	}
	if got := r.Matches[1].Photos[0].Record; got != 1 {
		t.Errorf("subject's first photo is record %d, want 1, the first after the config record (log order)", got)
	}
	for _, p := range r.Photos() {
		d, err := r.Unseal(p)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := code.Parse(p.Ingest.Photo)
		if d.Detail.Name != f.names[c] || d.Detail.PatientKey != "MRN-4711" {
			t.Errorf("photo %s unsealed as %+v", c, d.Detail)
		}
		if wantDups := c == f.photos[0]; wantDups != (len(d.Duplicates) == 1) {
			t.Errorf("photo %s: duplicates %+v", c, d.Duplicates)
		} else if wantDups && (d.Duplicates[0].Detail.Name != "copy.png" || d.Duplicates[0].Record != 4) {
			t.Errorf("duplicate unsealed as %+v", d.Duplicates[0])
		}
	}
	if len(r.Photos()) != 3 {
		t.Errorf("Photos() = %d, want each of the 3 photos once", len(r.Photos()))
	}

	// A second access names only photo 2; its grant cannot open photo 1's
	// details, and the first grant cannot open the second's photos.
	r2, err := cv.Reveal(context.Background(), f.id, Request{Codes: []code.Code{f.photos[2]}, Reason: "second"})
	if err != nil {
		t.Fatal(err)
	}
	f.checkLogged(t, r2.Record, manifest.ActionReveal, "second", f.photos[2])
	if _, err := r2.Unseal(r.Matches[0].Photos[0]); !errors.Is(err, errNotGranted) {
		t.Errorf("unsealing a photo of another access: %v", err)
	}
	if _, err := r.Unseal(r2.Matches[0].Photos[0]); !errors.Is(err, errNotGranted) {
		t.Errorf("unsealing a photo of a later access: %v", err)
	}
}

func TestDamagedLogRefusesWithFindings(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "IMG_0001.png", "IMG_0002.jpg")
	records := filepath.Join(f.dir, "log", manifest.RecordsFile)
	b, err := os.ReadFile(records)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"phase":"before"`), []byte(`"phase":"after"`), 1)
	if err := os.WriteFile(records, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	req := Request{Codes: []code.Code{f.photos[0]}, Reason: "audit"}
	_, rerr := f.open(t).Reveal(context.Background(), f.id, req)
	_, serr := f.open(t).Restore(context.Background(), f.id, req, out)
	for _, err := range []error{rerr, serr} {
		var dirty *DirtyLogError
		if !errors.As(err, &dirty) {
			t.Fatalf("access to a damaged log: %v, want a *DirtyLogError", err)
		}
		if len(dirty.Findings) == 0 || !strings.HasPrefix(dirty.Findings[0].String(), "record 1: ") {
			t.Errorf("findings %v do not name record 1", dirty.Findings)
		}
	}
	if after, _ := os.ReadFile(records); !bytes.Equal(after, b) {
		t.Error("an access was appended to a damaged log")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("restore from a damaged log wrote %d files", len(ents))
	}
}

func TestRefusalsLogNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "IMG_0001.png")
	unknown := []code.Code{newCode(t), newCode(t)}
	_, err := f.open(t).Reveal(context.Background(), f.id,
		Request{Codes: []code.Code{unknown[0], f.photos[0], unknown[1]}, Reason: "audit"})
	var uc *UnknownCodesError
	if !errors.As(err, &uc) || !slices.Equal(uc.Codes, unknown) {
		t.Errorf("unknown codes: %v, want an *UnknownCodesError naming %v", err, unknown)
	}

	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	stranger := &vault.Custodian{Identity: ageID, SigningKey: sk}
	if _, err := f.open(t).Reveal(context.Background(), stranger, Request{Codes: f.photos, Reason: "audit"}); !errors.Is(err, ErrNotCustodian) {
		t.Errorf("another vault's custodian: %v, want ErrNotCustodian", err)
	}

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.open(t).Restore(context.Background(), f.id, Request{Codes: f.photos, Reason: "audit"}, notDir); err == nil {
		t.Error("restore into a file instead of a folder was granted")
	}

	// While ingest holds the vault lock, an access waits; given up, it logs
	// nothing.
	lock, err := vault.AcquireLock(context.Background(), f.dir, "veil ingest", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // give up at once instead of waiting LockWait
	_, err = f.open(t).Reveal(ctx, f.id, Request{Codes: f.photos, Reason: "audit"})
	var le *vault.LockedError
	if !errors.As(err, &le) {
		t.Errorf("reveal while ingest holds the lock: %v, want a *vault.LockedError", err)
	}
	lock.Release()

	if n := len(f.records(t)); n != 3 {
		t.Errorf("log has %d records after refusals, want the 3 of the fixture", n)
	}

	// Once granted, the access has released the lock: the next writer gets
	// it at once.
	r, err := f.open(t).Reveal(context.Background(), f.id, Request{Codes: f.photos, Reason: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	f.checkLogged(t, r.Record, manifest.ActionReveal, "audit", f.photos...)
	l, err := vault.AcquireLock(context.Background(), f.dir, "veil ingest", 0)
	if err != nil {
		t.Fatalf("lock after a reveal: %v", err)
	}
	l.Release()
}

func TestRestoreWritesOnlyIntoItsFolder(t *testing.T) {
	t.Parallel()
	names := []string{"../../escape.jpg", "/etc/passwd", `..\..\win.png`, ".hidden.webp", "", "sub/dir/ok.jpg", "IMG_0007.png"}
	f := newFixture(t, names...)
	root := t.TempDir()
	out := filepath.Join(root, "a", "originals")
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	// A file planted under the name of the last photo's original, as a
	// symlink out of the folder, is neither followed nor replaced.
	outside := filepath.Join(root, "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(out, f.photos[6].String()+"-IMG_0007.png")
	if err := os.Symlink(outside, planted); err != nil {
		t.Fatal(err)
	}

	r, err := f.open(t).Restore(context.Background(), f.id, Request{Codes: []code.Code{f.subject}, Reason: "litigation hold"}, out)
	if err != nil {
		t.Fatal(err)
	}
	f.checkLogged(t, r.Record, manifest.ActionRestore, "litigation hold", f.subject)

	want := map[string]code.Code{}
	for i, base := range []string{"escape.jpg", "passwd", "win.png", "original.png", "original.jpg", "ok.jpg"} {
		want[f.photos[i].String()+"-"+base] = f.photos[i]
	}
	for _, p := range r.Photos() {
		path, size, err := r.WriteOriginal(p)
		c, _ := code.Parse(p.Ingest.Photo)
		if c == f.photos[6] {
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("restore over a planted symlink: %v, want fs.ErrExist", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("photo %s (%q): %v", c, f.names[c], err)
		}
		if filepath.Dir(path) != out || want[filepath.Base(path)] != c {
			t.Errorf("photo %s (%q) restored to %s", c, f.names[c], path)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, f.originals[c]) || size != int64(len(got)) {
			t.Errorf("%s: not the original bytes", path)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Error("restore wrote through a symlink out of its folder")
	}

	// Nothing else anywhere under root: no escapes, no temporary files left.
	var files []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if len(files) != len(want)+2 { // the restored originals, the planted link, outside
		t.Errorf("files under the test root: %q", files)
	}

	// Restoring again never replaces a restored original.
	if _, _, err := r.WriteOriginal(r.Matches[0].Photos[0]); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second restore of the same photo: %v, want fs.ErrExist", err)
	}
}
