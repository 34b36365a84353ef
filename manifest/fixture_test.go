package manifest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// keys are the vault keys a test log uses.
type keys struct {
	origin    string
	signer    note.Signer
	verifier  note.Verifier
	identity  *age.X25519Identity
	custodian ed25519.PrivateKey
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	origin := "veil/" + newUUID(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, cust, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &keys{origin: origin, signer: s, verifier: v, identity: id, custodian: cust}
}

func (k *keys) recipients() []age.Recipient { return []age.Recipient{k.identity.Recipient()} }

func (k *keys) custodianKeys() []ed25519.PublicKey {
	return []ed25519.PublicKey{k.custodian.Public().(ed25519.PublicKey)}
}

func newUUID(t testing.TB) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var testTime = time.Date(2025, 11, 25, 14, 0, 0, 0, time.UTC)

func seal(t testing.TB, k *keys, d Detail) string {
	t.Helper()
	s, err := Seal(d, k.recipients())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture is a log of real records, built from the sample photos in
// testdata/photos. The files the records name are package audit's to check.
type fixture struct {
	*keys
	logDir string
	photos []*Ingest
	pinned []byte // the checkpoint an auditor pinned after the last append
}

var samples = []string{"clinic.png", "phone-rotated6.jpg", "rose-exif.webp"}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{keys: newKeys(t), logDir: filepath.Join(t.TempDir(), "log")}
	l, err := Open(f.logDir, f.origin, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	subjects := []string{newUUID(t), newUUID(t)}
	var batch []Record
	for i := range 6 {
		name := samples[i%len(samples)]
		orig, err := os.ReadFile(filepath.Join("..", "testdata", "photos", name))
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(samples) {
			orig = append(orig, byte(i)) // other bytes, as from another camera
		}
		rec := f.addPhoto(t, subjects[i/len(samples)], "inbox/MRN-100"+fmt.Sprint(i/3)+"/before/"+name, orig)
		batch = append(batch, rec)
		if i == 2 {
			// Group commit: two batches.
			if _, err := l.Append(batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	batch = append(batch,
		&Duplicate{Of: f.photos[0].Photo, Time: testTime, Sealed: seal(t, f.keys, Detail{Path: "inbox/x/before/copy.png", Name: "copy.png"})},
		&Quarantine{Reason: "phase", Time: testTime, Sealed: seal(t, f.keys, Detail{Path: "inbox/x/lunch/a.jpg", Name: "a.jpg", Message: "unknown phase \"lunch\""})},
	)
	if _, err := l.Append(batch); err != nil {
		t.Fatal(err)
	}
	cp, err := l.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	acc := &Access{Action: ActionReveal, Codes: []string{f.photos[1].Photo, subjects[1]}, Reason: "patient request #12", Time: testTime, At: PositionOf(cp)}
	if err := SignAccess(acc, f.custodian); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]Record{acc}); err != nil {
		t.Fatal(err)
	}
	f.pinned, err = os.ReadFile(filepath.Join(f.logDir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// addPhoto returns the ingest record of orig, encrypted as a blob and
// "stripped" for release.
func (f *fixture) addPhoto(t testing.TB, subject, path string, orig []byte) *Ingest {
	t.Helper()
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, f.recipients()...)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(orig)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	blobHash := sha256.Sum256(ct.Bytes())
	bh := hex.EncodeToString(blobHash[:])

	photo := newUUID(t)
	ext := strings.TrimPrefix(filepath.Ext(path), ".")
	released := append([]byte("stripped:"), orig...)
	rel := subject + "/" + photo + "." + ext
	rh := sha256.Sum256(released)
	oh := sha256.Sum256(orig)
	rec := &Ingest{
		Photo: photo, Subject: subject, Phase: "before", Format: ext,
		Released: Released{Path: rel, SHA256: hex.EncodeToString(rh[:]), Size: int64(len(released)), Width: 640, Height: 480},
		Blob:     BlobInfo{SHA256: bh, Size: int64(ct.Len())},
		Time:     testTime,
		Sealed: seal(t, f.keys, Detail{Path: path, Name: filepath.Base(path), PatientKey: strings.Split(path, "/")[1],
			SHA256: hex.EncodeToString(oh[:]), Size: int64(len(orig)), ModTime: testTime.Add(-time.Hour)}),
	}
	f.photos = append(f.photos, rec)
	return rec
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t testing.TB) *Report {
	t.Helper()
	rep, err := Verify(t.Context(), VerifyOptions{
		LogDir: f.logDir, Origin: f.origin, LogVerifier: f.verifier, CustodianKeys: f.custodianKeys(),
		Pinned: f.pinned,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// lines returns the log's record lines.
func (f *fixture) lines(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.logDir, RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

// resign replaces the log with lines and lets Open rebuild the hashes and
// sign a checkpoint with the log key: what an attacker holding the ingest
// host (and so the log key) could do.
// resign is what someone holding the log key can do: write any records and
// a pending note naming them all, so that Open signs them.
func (f *fixture) resign(t testing.TB, lines [][]byte) {
	t.Helper()
	writeFile(t, filepath.Join(f.logDir, RecordsFile), bytes.Join(lines, nil))
	os.Remove(filepath.Join(f.logDir, HashesFile))
	os.Remove(filepath.Join(f.logDir, CheckpointFile))
	p := pending{origin: f.origin}
	for _, l := range lines {
		p.leaves = append(p.leaves, tlog.RecordHash(bytes.TrimSuffix(l, []byte("\n"))))
	}
	pf, err := os.OpenFile(filepath.Join(f.logDir, PendingFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := writePending(pf, p, f.signer); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	l, err := Open(f.logDir, f.origin, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}
