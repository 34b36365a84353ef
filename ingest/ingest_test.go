package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// newVault returns a fresh vault: a copy of one made once per test binary,
// since making a custodian file costs a second of scrypt.
func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "veil-ingest-test-")
		if err != nil {
			templateErr = err
			return
		}
		templateDir = filepath.Join(dir, "vault")
		_, templateErr = custody.Init(templateDir, filepath.Join(dir, "custodian.age"), vault.InitOptions{Passphrase: []byte("correct horse battery staple")})
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	if err := os.CopyFS(dir, os.DirFS(templateDir)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "keys"), 0o700)
	v, err := vault.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type env struct {
	v       *vault.Vault
	inbox   string
	release string
	events  []Event
	held    *vault.Lock
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	return &env{v: newVault(t), inbox: filepath.Join(dir, "inbox"), release: filepath.Join(dir, "release")}
}

func (e *env) run(t *testing.T, opts Options) (Summary, error) {
	t.Helper()
	opts.Release = e.release
	if opts.Workers == 0 {
		opts.Workers = 3
	}
	var lock *vault.Lock
	if !opts.DryRun {
		lock = e.lock(t)
	}
	p, err := New(e.v, lock, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e.events = nil
	return p.Run(context.Background(), []string{e.inbox}, func(ev Event) { e.events = append(e.events, ev) })
}

// verify audits vault, log and release folder as veil verify --release does.
func (e *env) verify(t *testing.T) *manifest.Report {
	t.Helper()
	rep, err := audit.Run(context.Background(), e.v, audit.Options{Release: e.release})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		t.Errorf("verify: %s", f)
	}
	return rep
}

// lock takes the lock of the vault until the test ends, or until the next
// lock: a pipeline changes the vault only under it.
func (e *env) lock(t testing.TB) *vault.Lock {
	t.Helper()
	e.held.Release()
	l, err := vault.AcquireLock(context.Background(), e.v.Dir(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.held = l
	t.Cleanup(func() { l.Release() })
	return l
}

func (e *env) count(kind EventKind) int {
	n := 0
	for _, ev := range e.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

func TestIngest(t *testing.T) {
	e := newEnv(t)
	jpg, png, webp := sample(t, "phone-rotated6.jpg"), sample(t, "clinic.png"), sample(t, "rose-exif.webp")
	put(t, e.inbox, "Jane Doe/before/a.jpg", jpg)
	put(t, e.inbox, "jane  DOE/post-op/b.png", png)
	put(t, e.inbox, "Bob/pre/c.webp", webp)
	put(t, e.inbox, "Bob/pre/copy of a.jpg", jpg) // the same bytes: a duplicate
	put(t, e.inbox, "Bob/later/d.png", png)       // unknown phase
	put(t, e.inbox, "loose.jpg", jpg)             // layout mismatch
	put(t, e.inbox, "Bob/pre/empty.jpg", nil)
	put(t, e.inbox, "Bob/pre/anim.gif", []byte("GIF89a......"))
	put(t, e.inbox, "Bob/pre/cut.webp", webp[:3000])
	// Cut short long ago: damaged, not a copy still arriving.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(e.inbox, "Bob/pre/cut.webp"), old, old)
	put(t, e.inbox, "Bob/pre/.DS_Store", []byte("x"))
	put(t, e.inbox, "Bob/pre/e.jpg.part", jpg[:100])
	os.Symlink("a.jpg", filepath.Join(e.inbox, "Jane Doe/before/link.jpg"))
	mkfifo(t, filepath.Join(e.inbox, "Bob/pre/fifo.jpg"))

	sum, err := e.run(t, Options{MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ingested != 3 || sum.Quarantined != 7 || sum.Skipped != 2 || sum.Left != 0 {
		t.Fatalf("summary %+v, events %+v", sum, e.events)
	}
	// Whichever copy of the jpeg came first is ingested, the other is the
	// duplicate; loose.jpg is quarantined by its path before it is read.
	if sum.Duplicates != 1 {
		t.Errorf("%d duplicates, want 1", sum.Duplicates)
	}
	reasons := map[string]string{}
	subjects := map[string]bool{}
	for _, ev := range e.events {
		switch ev.Kind {
		case Quarantined:
			reasons[filepath.Base(ev.Path)] = ev.Reason
		case Ingested:
			subjects[ev.Subject] = true
			if ev.Path != "" {
				t.Errorf("ingested event carries a path: %+v", ev)
			}
		}
	}
	want := map[string]string{"d.png": "phase", "loose.jpg": "layout", "empty.jpg": "empty", "anim.gif": "format",
		"cut.webp": "damaged", "link.jpg": "symlink", "fifo.jpg": "special-file"}
	for name, r := range want {
		if reasons[name] != r {
			t.Errorf("%s: quarantine reason %q, want %q", name, reasons[name], r)
		}
		q := filepath.Join(e.inbox, inbox.QuarantineDir)
		found := false
		filepath.WalkDir(q, func(p string, d fs.DirEntry, err error) error {
			found = found || d != nil && d.Name() == name
			return nil
		})
		if !found {
			t.Errorf("%s not in %s", name, q)
		}
	}
	if len(subjects) != 2 {
		t.Errorf("%d subject codes, want 2 (Jane Doe and Bob)", len(subjects))
	}
	for _, rel := range []string{"Jane Doe/before/a.jpg", "jane  DOE/post-op/b.png", "Bob/pre/c.webp", "Bob/pre/copy of a.jpg"} {
		if exists(filepath.Join(e.inbox, rel)) {
			t.Errorf("%s is still in the inbox", rel)
		}
	}
	for _, rel := range []string{"Bob/pre/.DS_Store", "Bob/pre/e.jpg.part"} {
		if !exists(filepath.Join(e.inbox, rel)) {
			t.Errorf("%s was touched", rel)
		}
	}
	rep := e.verify(t)
	if rep.Photos != 3 || rep.Duplicates != 1 || rep.Quarantines != 7 {
		t.Errorf("log: %d photos, %d duplicates, %d quarantines", rep.Photos, rep.Duplicates, rep.Quarantines)
	}
	csv, _ := os.ReadFile(filepath.Join(e.release, release.IndexFile))
	rows := 0
	if err := release.ReadIndex(bytes.NewReader(csv), func(int, release.Row) error { rows++; return nil }); err != nil || rows != 3 {
		t.Errorf("index.csv (%d rows, %v):\n%s", rows, err, csv)
	}

	// A later run: the same bytes under another name are a duplicate, the
	// same patient keeps the same code.
	put(t, e.inbox, "Other/after/again.png", png)
	put(t, e.inbox, "JANE DOE/after/new.jpg", append(append([]byte{}, jpg[:len(jpg)-2]...), 0xff, 0xd9, 0xff, 0xd9)[:len(jpg)])
	put(t, e.inbox, "JANE_DOE/after/w.webp", append(append([]byte{}, webp...), 0))
	sum, err = e.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Duplicates != 1 {
		t.Errorf("second run: %+v", sum)
	}
	for _, ev := range e.events {
		if ev.Kind == Ingested && !subjects[ev.Subject] {
			t.Errorf("Jane Doe got a new subject code %s", ev.Subject)
		}
	}
	e.verify(t)
}

func TestKeepSourceAndDryRun(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Jane Doe/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	put(t, e.inbox, "Jane Doe/bad/b.png", sample(t, "clinic.png"))

	sum, err := e.run(t, Options{DryRun: true})
	if err != nil || sum.Ingested != 1 || sum.Quarantined != 1 {
		t.Fatalf("dry run: %+v, %v", sum, err)
	}
	if exists(e.release) || exists(filepath.Join(e.inbox, inbox.QuarantineDir)) {
		t.Error("dry run changed something")
	}
	if recs, _ := os.ReadFile(filepath.Join(e.v.LogDir(), manifest.RecordsFile)); bytes.Count(recs, []byte("\n")) != 1 {
		t.Errorf("dry run wrote the log: %d records, want the config record alone", bytes.Count(recs, []byte("\n")))
	}

	if sum, err = e.run(t, Options{KeepSource: true}); err != nil || sum.Ingested != 1 {
		t.Fatalf("keep-source: %+v, %v", sum, err)
	}
	if !exists(filepath.Join(e.inbox, "Jane Doe/before/a.jpg")) {
		t.Fatal("--keep-source removed the source")
	}
	// Kept sources are recognised, not logged again.
	if sum, err = e.run(t, Options{KeepSource: true}); err != nil || sum.Already != 1 || sum.Ingested+sum.Duplicates != 0 {
		t.Fatalf("second keep-source run: %+v, %v", sum, err)
	}
	if rep := e.verify(t); rep.Records != 3 {
		t.Errorf("%d records, want the config record and 2", rep.Records)
	}

	// A dry run on a vault with photos: it starts from a copy of the
	// lookup table and leaves the vault's own alone.
	tab := filepath.Join(e.v.IndexDir(), "ingest.tab")
	before, _ := os.ReadFile(tab)
	put(t, e.inbox, "Jane Doe/after/c.webp", sample(t, "rose-exif.webp"))
	if sum, err = e.run(t, Options{DryRun: true}); err != nil || sum.Already != 1 || sum.Ingested != 1 || sum.Quarantined != 0 {
		t.Fatalf("dry run on a vault with photos: %+v, %v", sum, err)
	}
	if after, _ := os.ReadFile(tab); !bytes.Equal(before, after) {
		t.Error("a dry run changed the vault's lookup table")
	}
}

// TestBadConditions: a full disk, a read-only release folder and an inbox
// file that vanishes or changes while being read each stop or skip cleanly,
// and nothing is lost: every source is committed or still in the inbox.
func TestBadConditions(t *testing.T) {
	files := []string{"P1/before/1.jpg", "P1/after/2.png", "P2/before/3.webp", "P2/after/4.jpg"}
	data := func(t *testing.T, i int) []byte {
		b := [][]byte{sample(t, "phone-rotated6.jpg"), sample(t, "clinic.png"), sample(t, "rose-exif.webp")}[i%3]
		if i == 3 { // distinct bytes: a JPEG with one more byte of junk before EOI
			b = append(append([]byte{}, b[:len(b)-2]...), 0, 0xff, 0xd9)
		}
		return b
	}
	tests := []struct {
		name    string
		hook    func(e *env) func(Step, string) error
		fatal   error // the run stops with this
		settled bool  // every file committed once the condition is gone
		photos  int   // photos logged in the end, beyond one per file
	}{
		{"disk full in the vault", func(e *env) func(Step, string) error {
			n := 0
			var mu sync.Mutex
			return func(s Step, _ string) error {
				mu.Lock()
				defer mu.Unlock()
				if s == StepPut {
					if n++; n >= 2 {
						return &fs.PathError{Op: "write", Path: "blob", Err: syscall.ENOSPC}
					}
				}
				return nil
			}
		}, syscall.ENOSPC, true, 0},
		{"disk full at the commit", func(e *env) func(Step, string) error {
			return func(s Step, _ string) error {
				if s == StepCommit {
					return syscall.ENOSPC
				}
				return nil
			}
		}, syscall.ENOSPC, true, 0},
		{"read-only release folder", func(e *env) func(Step, string) error {
			return func(s Step, _ string) error {
				if s == StepRelease {
					return &fs.PathError{Op: "open", Path: e.release, Err: syscall.EROFS}
				}
				return nil
			}
		}, syscall.EROFS, true, 0},
		{"deleted while being read", func(e *env) func(Step, string) error {
			return func(s Step, p string) error {
				if s == StepPut && strings.HasSuffix(p, "1.jpg") {
					os.Remove(filepath.Join(e.inbox, files[0]))
				}
				return nil
			}
		}, nil, true, 0},
		// The bytes read are ingested whole (hash, blob and release from one
		// read); the source, changed since, is kept and ingested as new
		// bytes by the next run.
		{"rewritten while being read", func(e *env) func(Step, string) error {
			return func(s Step, p string) error {
				if s == StepPut && strings.HasSuffix(p, "2.png") {
					os.WriteFile(filepath.Join(e.inbox, files[1]), append(sample(t, "rose-exif.webp"), 1, 2), 0o644)
				}
				return nil
			}
		}, nil, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for i, f := range files {
				put(t, e.inbox, f, data(t, i))
			}
			sum, err := e.run(t, Options{Hook: tt.hook(e), Workers: 1})
			switch {
			case tt.fatal == nil && err != nil:
				t.Fatalf("run: %v", err)
			case tt.fatal != nil && !errors.Is(err, tt.fatal):
				t.Fatalf("run: %v, want %v", err, tt.fatal)
			}
			if err != nil {
				t.Logf("error: %v", err)
			}
			rep := e.verify(t)
			left := 0
			for _, f := range files {
				if exists(filepath.Join(e.inbox, f)) {
					left++
				}
			}
			if int(rep.Photos)+left < len(files) && tt.name != "deleted while being read" {
				t.Errorf("lost: %d committed + %d in the inbox < %d (summary %+v)", rep.Photos, left, len(files), sum)
			}
			// The condition is gone: a second run takes everything left.
			if _, err := e.run(t, Options{Workers: 2}); err != nil {
				t.Fatal(err)
			}
			rep = e.verify(t)
			for _, f := range files {
				if exists(filepath.Join(e.inbox, f)) && tt.settled {
					t.Errorf("%s still in the inbox after the second run", f)
				}
			}
			if rep.Photos != int64(len(files)+tt.photos) {
				t.Errorf("%d photos logged, want %d", rep.Photos, len(files)+tt.photos)
			}
			entries, _ := os.ReadDir(filepath.Join(e.v.Dir(), "blobs"))
			for _, en := range entries {
				if strings.HasPrefix(en.Name(), ".") {
					t.Errorf("temp file left in blobs: %s", en.Name())
				}
			}
		})
	}
}

// TestLargeOriginalStreamed: an original above memLimit is not read into
// memory but streamed from the file for the hash, the vault and the strip;
// its blob decrypts to exactly its bytes and its sealed detail names them.
func TestLargeOriginalStreamed(t *testing.T) {
	e := newEnv(t)
	big := make([]byte, memLimit+3<<20)
	rand.NewChaCha8([32]byte{3, 4}).Read(big)
	data := append(sample(t, "phone-rotated6.jpg"), big...) // a trailer: stripped
	put(t, e.inbox, "Ann/before/huge.jpg", data)
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	if e.count(Ingested) != 1 {
		t.Fatalf("events %+v", e.events)
	}
	e.verify(t)

	c, err := vault.LoadCustodian(filepath.Join(filepath.Dir(templateDir), "custodian.age"), []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	var rec *manifest.Ingest
	err = manifest.Scan(e.v.LogDir(), func(_ int64, line []byte) error {
		r, err := manifest.Parse(line)
		rec, _ = r.(*manifest.Ingest)
		return err
	})
	if err != nil || rec == nil {
		t.Fatal(rec, err)
	}
	sealed := rec.Sealed
	r, err := e.v.OpenBlob(rec.Blob.SHA256, c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob does not decrypt to the original (%d of %d bytes, %v)", len(got), len(data), err)
	}
	d, err := manifest.Unseal(sealed, c.Identity)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(data)) {
		t.Errorf("sealed detail: sha256 %s size %d", d.SHA256, d.Size)
	}
	if rec.Released.Size >= int64(len(data)-len(big)) {
		t.Errorf("released %d bytes: the trailer was not stripped", rec.Released.Size)
	}
}

// TestQuarantineRecovered: a file moved to quarantine by a run that stopped
// before logging it is logged by the next run, once, and never again.
func TestQuarantineRecovered(t *testing.T) {
	e := newEnv(t)
	put(t, e.inbox, "Ann/weird/x.png", sample(t, "clinic.png"))
	put(t, e.inbox, "Ann/before/a.jpg", sample(t, "phone-rotated6.jpg"))
	quarantines := func() int {
		n := 0
		manifest.Scan(e.v.LogDir(), func(_ int64, line []byte) error {
			if strings.Contains(string(line), `"type":"quarantine"`) {
				n++
			}
			return nil
		})
		return n
	}
	fail := errors.New("injected: the log cannot be written")
	_, err := e.run(t, Options{Hook: func(s Step, _ string) error {
		if s == StepCommit {
			return fail
		}
		return nil
	}})
	if !errors.Is(err, fail) {
		t.Fatalf("run with a failing commit: %v", err)
	}
	if !exists(filepath.Join(e.inbox, inbox.QuarantineDir, "Ann/weird/x.png")) || quarantines() != 0 {
		t.Fatalf("after the failed run: quarantined %v, %d records", exists(filepath.Join(e.inbox, inbox.QuarantineDir, "Ann/weird/x.png")), quarantines())
	}
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	if e.count(Quarantined) != 1 || e.count(Ingested) != 1 || quarantines() != 1 {
		t.Fatalf("recovery run: %d quarantined, %d ingested, %d records (%+v)", e.count(Quarantined), e.count(Ingested), quarantines(), e.events)
	}
	for _, ev := range e.events {
		if ev.Kind == Quarantined && (ev.Reason != "phase" || !strings.Contains(ev.Message, "interrupted run")) {
			t.Errorf("recovered quarantine event %+v", ev)
		}
	}
	// The sealed detail names the file where it was found, as in time.
	c, err := vault.LoadCustodian(filepath.Join(filepath.Dir(templateDir), "custodian.age"), []byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	manifest.Scan(e.v.LogDir(), func(_ int64, line []byte) error {
		var r struct{ Type, Sealed string }
		json.Unmarshal(line, &r)
		if r.Type == "quarantine" {
			d, err := manifest.Unseal(r.Sealed, c.Identity)
			if err != nil || d.Path != filepath.Join(e.inbox, "Ann/weird/x.png") || d.Name != "x.png" {
				t.Errorf("recovered detail %+v, %v", d, err)
			}
		}
		return nil
	})
	// Whatever happens to the table, it is not logged twice.
	os.Remove(filepath.Join(e.v.IndexDir(), "ingest.tab"))
	if _, err := e.run(t, Options{}); err != nil {
		t.Fatal(err)
	}
	if quarantines() != 1 || e.count(Quarantined) != 0 {
		t.Errorf("third run: %d quarantine records, %d quarantined events", quarantines(), e.count(Quarantined))
	}
	e.verify(t)
}

// TestLargeOriginalRewritten: a source too big for memory is read once for
// the vault and again for the strip; rewritten in place between the two,
// with its modification time put back, it is left for the next run, and
// nothing is released or logged (red team, PoC 13).
func TestLargeOriginalRewritten(t *testing.T) {
	e := newEnv(t)
	big := make([]byte, memLimit+3<<20)
	rand.NewChaCha8([32]byte{5, 6}).Read(big)
	data := append(sample(t, "phone-rotated6.jpg"), big...)
	path := filepath.Join(e.inbox, "Ann/before/huge.jpg")
	put(t, e.inbox, "Ann/before/huge.jpg", data)
	other := append(sample(t, "clinic.png"), big...) // another photo, same size or not
	other = other[:min(len(other), len(data))]
	rewritten := false
	hook := func(step Step, _ string) error {
		if step != StepRelease || rewritten {
			return nil
		}
		rewritten = true
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(other, 0); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Chtimes(path, fi.ModTime(), fi.ModTime())
	}
	sum, err := e.run(t, Options{Hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	if !rewritten {
		t.Fatal("the hook never ran: the test proves nothing")
	}
	if sum.Ingested != 0 || sum.Left != 1 || !exists(path) {
		t.Fatalf("summary %+v, events %+v", sum, e.events)
	}
	filepath.WalkDir(e.release, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != release.IndexFile {
			t.Errorf("released after the source was left: %s", p)
		}
		return nil
	})
}
