package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/testlog"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// testVault is a real vault with real encrypted originals, a release folder
// with its index.csv and a log, built through the vault and manifest APIs.
type testVault struct {
	dir, custodian, pass, release, pub string
	photos                             []*manifest.Ingest
	originals                          map[string][]byte // by photo code
}

const testSubject = "0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"

var testPhotoCodes = []string{
	"1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
	"2b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e",
	"3c4d5e6f-7a8b-4c3d-ae4f-5a6b7c8d9e0f",
}

func newTestVault(t *testing.T) *testVault {
	t.Helper()
	root := t.TempDir()
	tv := &testVault{
		dir: filepath.Join(root, "vault"), custodian: filepath.Join(root, "custodian.age"),
		pass: filepath.Join(root, "pass.txt"), release: filepath.Join(root, "release"),
		pub: filepath.Join(root, "pinned.pub"), originals: map[string][]byte{},
	}
	pass := []byte("correct horse battery staple")
	if err := os.WriteFile(tv.pass, pass, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := custody.Init(tv.dir, tv.custodian, vault.InitOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tv.pub, v.PublicKeys().MarshalAuditorPub(), 0o644); err != nil {
		t.Fatal(err)
	}
	recipients, err := v.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	var recs []manifest.Record
	for i, name := range []string{"clinic.png", "phone-rotated6.jpg", "rose-exif.webp"} {
		orig, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", name))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := v.Put(context.Background(), bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		code := testPhotoCodes[i]
		ext := strings.TrimPrefix(filepath.Ext(name), ".")
		rel := testSubject + "/" + code + "." + ext
		stripped := append([]byte("stripped "), orig...)
		if err := os.MkdirAll(filepath.Join(tv.release, testSubject), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tv.release, filepath.FromSlash(rel)), stripped, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(stripped)
		path := "inbox/MRN-4711/before/" + name
		sealed, err := manifest.Seal(manifest.Detail{Path: path, Name: name, PatientKey: "MRN-4711", Phase: "pre",
			SHA256: ref.PlainSHA256, Size: ref.PlainSize, ModTime: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}, recipients)
		if err != nil {
			t.Fatal(err)
		}
		rec := &manifest.Ingest{Photo: code, Subject: testSubject, Phase: "before", Format: ext,
			Released: manifest.Released{Path: rel, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(stripped)), Width: 64, Height: 48},
			Blob:     manifest.BlobInfo{SHA256: ref.Hash, Size: ref.Size}, Time: time.Now(), Sealed: sealed}
		recs = append(recs, rec)
		tv.photos = append(tv.photos, rec)
		tv.originals[code] = orig
	}
	// index.csv as ingest writes it, one row per photo in log order.
	index := release.Header
	for _, r := range tv.photos {
		p, _ := code.Parse(r.Photo)
		s, _ := code.Parse(r.Subject)
		index += release.Row{Photo: p, Subject: s, Phase: r.Phase, Format: r.Format,
			Width: r.Released.Width, Height: r.Released.Height, SHA256: r.Released.SHA256}.Line()
	}
	if err := os.WriteFile(filepath.Join(tv.release, release.IndexFile), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	testlog.Append(t, v, recs)
	return tv
}

// veil runs the CLI in-process and returns stdout, stderr and the exit code.
func veil(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		reportError(&errOut, err, false)
	}
	return out.String(), errOut.String(), exitCode(err)
}

func (tv *testVault) verify(t *testing.T, extra ...string) (string, string, int) {
	return veil(t, append([]string{"verify", "--vault", tv.dir, "--pub", tv.pub, "--release", tv.release}, extra...)...)
}

func (tv *testVault) custodianArgs(cmd string) []string {
	return []string{cmd, "--vault", tv.dir, "--identity", tv.custodian, "--passphrase-file", tv.pass}
}

func logSize(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "log", manifest.RecordsFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

func TestRevealRestoreAreLoggedFirst(t *testing.T) {
	tv := newTestVault(t)
	cp := filepath.Join(t.TempDir(), "audit.cp")
	if out, errOut, code := tv.verify(t, "--checkpoint", cp); code != 0 {
		t.Fatalf("verify of a fresh vault: exit %d\n%s%s", code, out, errOut)
	}

	// reveal a subject: every photo, with what was sealed
	out, errOut, code := veil(t, append(tv.custodianArgs("reveal"), "--reason", "patient request #12", testSubject)...)
	if code != 0 {
		t.Fatalf("reveal: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"subject " + testSubject + ": 3 photos", "photo " + testPhotoCodes[1] + " (record 2)",
		"  patient   MRN-4711", "  original  inbox/MRN-4711/before/phone-rotated6.jpg", "  phase     before"} {
		if !strings.Contains(out, want) {
			t.Errorf("reveal output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "logged reveal of 1 code as record 4") {
		t.Errorf("reveal stderr: %s", errOut)
	}

	// restore one photo: the exact original bytes, never overwritten
	dest := filepath.Join(t.TempDir(), "originals")
	out, errOut, code = veil(t, append(tv.custodianArgs("restore"), "--reason", "litigation hold", "-o", dest, testPhotoCodes[2])...)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errOut)
	}
	got, err := os.ReadFile(filepath.Join(dest, testPhotoCodes[2]+"-rose-exif.webp"))
	if err != nil || !bytes.Equal(got, tv.originals[testPhotoCodes[2]]) {
		t.Fatalf("restored file differs from the original (%v)", err)
	}
	if _, _, code = veil(t, append(tv.custodianArgs("restore"), "--reason", "again", "-o", dest, testPhotoCodes[2])...); code != 1 {
		t.Errorf("restore over an existing file: exit %d, want 1", code)
	}

	// each use shows up in the next audit, which extends the pinned checkpoint
	out, errOut, code = tv.verify(t, "--checkpoint", cp)
	if code != 0 || !strings.Contains(out, "3 access events") {
		t.Fatalf("verify after access: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "advanced "+cp+" from 4 to 7 records") {
		t.Errorf("pin not advanced: %s", errOut)
	}

	// unknown codes and missing reasons reveal nothing and log nothing
	before := logSize(t, tv.dir)
	if _, errOut, code := veil(t, append(tv.custodianArgs("reveal"), "--reason", "x", "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a")...); code != 1 ||
		!strings.Contains(errOut, "nothing was logged or revealed") {
		t.Errorf("unknown code: exit %d, %s", code, errOut)
	}
	if _, errOut, code := veil(t, append(tv.custodianArgs("reveal"), testSubject)...); code != 2 ||
		!strings.Contains(errOut, "--reason is required") {
		t.Errorf("no reason: exit %d, %s", code, errOut)
	}
	if logSize(t, tv.dir) != before {
		t.Error("a refused reveal was logged")
	}
}

func TestRevealRefusesDamagedLog(t *testing.T) {
	tv := newTestVault(t)
	records := filepath.Join(tv.dir, "log", manifest.RecordsFile)
	b, _ := os.ReadFile(records)
	b = bytes.Replace(b, []byte(`"phase":"before"`), []byte(`"phase":"after"`), 1)
	os.WriteFile(records, b, 0o644)
	out, errOut, code := veil(t, append(tv.custodianArgs("reveal"), "--reason", "audit", testPhotoCodes[0])...)
	if code != 3 {
		t.Fatalf("reveal on a damaged log: exit %d, want 3\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "MRN-4711") || strings.Contains(errOut, "MRN-4711") {
		t.Error("reveal printed sealed data from a damaged log")
	}
	if logSize(t, tv.dir) != 4 {
		t.Error("access appended to a damaged log")
	}
}

// TestVerifyTamperCLI runs the tamper cases that involve the vault and the
// command itself end to end: each must exit 3 naming the damage.
func TestVerifyTamperCLI(t *testing.T) {
	blob := func(tv *testVault, i int) string {
		h := tv.photos[i].Blob.SHA256
		return filepath.Join(tv.dir, "blobs", h[:2], h+".age")
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, tv *testVault)
		want   string
	}{
		{"record byte flipped", func(t *testing.T, tv *testVault) {
			p := filepath.Join(tv.dir, "log", manifest.RecordsFile)
			b, _ := os.ReadFile(p)
			b[bytes.Index(b, []byte(`"width":64`))+len(`"width":6`)] = '5'
			os.WriteFile(p, b, 0o644)
		}, "record 1: content differs from the hash stored"},
		{"vault.json keys replaced", func(t *testing.T, tv *testVault) {
			other := newTestVault(t)
			cfg, _ := os.ReadFile(filepath.Join(other.dir, "vault.json"))
			os.WriteFile(filepath.Join(tv.dir, "vault.json"), cfg, 0o644)
			os.Rename(filepath.Join(tv.dir, "keys", "log.key"), filepath.Join(tv.dir, "keys", "log.key.old"))
			os.Rename(filepath.Join(other.dir, "keys", "log.key"), filepath.Join(tv.dir, "keys", "log.key"))
		}, "vault.json: log verifier key differs from the pinned auditor.pub"},
		{"blob bit flipped", func(t *testing.T, tv *testVault) {
			b, _ := os.ReadFile(blob(tv, 1))
			b[len(b)-3] ^= 4
			os.WriteFile(blob(tv, 1), b, 0o644)
		}, "record 2: blob "},
		{"blob missing", func(t *testing.T, tv *testVault) { os.Remove(blob(tv, 2)) }, ": missing"},
		{"orphan blob", func(t *testing.T, tv *testVault) {
			v, _ := vault.Open(tv.dir)
			v.Put(context.Background(), strings.NewReader("an original nobody logged"))
		}, "no record references it (orphan)"},
		{"stray file in the blob store", func(t *testing.T, tv *testVault) {
			os.WriteFile(filepath.Join(tv.dir, "blobs", "notes.txt"), []byte("x"), 0o644)
		}, "blobs/notes.txt: unexpected file in the blob store"},
		{"released file added", func(t *testing.T, tv *testVault) {
			os.WriteFile(filepath.Join(tv.release, testSubject, "extra.jpg"), []byte("x"), 0o644)
		}, "released file " + testSubject + "/extra.jpg: not in the log"},
		{"released file altered", func(t *testing.T, tv *testVault) {
			p := filepath.Join(tv.release, filepath.FromSlash(tv.photos[0].Released.Path))
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, 0), 0o644)
		}, "record 1: released file "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tv := newTestVault(t)
			if out, errOut, code := tv.verify(t); code != 0 {
				t.Fatalf("before tampering: exit %d\n%s%s", code, out, errOut)
			}
			tc.tamper(t, tv)
			out, errOut, code := tv.verify(t)
			if code != 3 {
				t.Fatalf("exit %d, want 3\n%s%s", code, out, errOut)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("no finding contains %q:\n%s", tc.want, out)
			}
			if !strings.Contains(errOut, "veil: verification failed") {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
}

// TestVerifyCheckpointRollback: a log cut back and re-signed with the log
// key still fails against the checkpoint the auditor pinned, and the pin is
// not moved.
func TestVerifyCheckpointRollback(t *testing.T) {
	tv := newTestVault(t)
	cp := filepath.Join(t.TempDir(), "audit.cp")
	if _, errOut, code := tv.verify(t, "--checkpoint", cp); code != 0 || !strings.Contains(errOut, "pinned the checkpoint of 4 records") {
		t.Fatalf("first audit: exit %d, %s", code, errOut)
	}
	pinned, _ := os.ReadFile(cp)

	resignLog(t, tv.dir, logLines(t, filepath.Join(tv.dir, "log"))[:2]) // as a holder of the log key can

	out, _, code := veil(t, "verify", "--vault", tv.dir, "--pub", tv.pub, "--checkpoint", cp)
	if code != 3 || !strings.Contains(out, "fewer than the 4 of the pinned checkpoint (rollback)") {
		t.Errorf("rollback: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(cp); !bytes.Equal(after, pinned) {
		t.Error("the pinned checkpoint moved after a failed audit")
	}
}
