package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// fixture is a real vault (encrypted blobs, signed log) and a real release
// folder with its index.csv, built once from the sample photos in
// testdata/photos and copied for each test, which may then damage it.
type fixture struct {
	vault, release string
	photos         []*manifest.Ingest // the ingest records, in log order
	pinned         []byte             // the checkpoint an auditor pinned after the last append
}

var samples = []struct{ name, format string }{
	{"clinic.png", "png"}, {"phone-rotated6.jpg", "jpeg"}, {"rose-exif.webp", "webp"},
}

var testTime = time.Date(2025, 11, 25, 14, 0, 0, 0, time.UTC)

var (
	templateOnce sync.Once
	template     *fixture
	templateErr  error
)

// newFixture returns a fresh copy of the template fixture.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "veil-audit-test-")
		if err != nil {
			templateErr = err
			return
		}
		template, templateErr = buildFixture(dir)
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	dst := t.TempDir()
	root := filepath.Dir(template.vault)
	if err := os.CopyFS(dst, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	f := *template
	f.vault = filepath.Join(dst, "vault")
	f.release = filepath.Join(dst, "release")
	return &f
}

func TestMain(m *testing.M) {
	code := m.Run()
	if template != nil {
		os.RemoveAll(filepath.Dir(template.vault))
	}
	os.Exit(code)
}

// buildFixture writes a vault of six photos of two subjects, committed in
// two batches, with a duplicate and a quarantine between them, the release
// folder ingest would write, and its index.csv.
func buildFixture(root string) (*fixture, error) {
	f := &fixture{vault: filepath.Join(root, "vault"), release: filepath.Join(root, "release")}
	v, err := custody.Init(f.vault, filepath.Join(root, "custodian.age"), vault.InitOptions{Passphrase: []byte("test")})
	if err != nil {
		return nil, err
	}
	recipients, err := v.Recipients()
	if err != nil {
		return nil, err
	}
	signer, err := v.LogSigner()
	if err != nil {
		return nil, err
	}
	l, err := manifest.Open(v.LogDir(), v.Origin(), signer)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var sealErr error
	seal := func(d manifest.Detail) string {
		s, err := manifest.Seal(d, recipients)
		if err != nil {
			sealErr = err
		}
		return s
	}
	index := []string{release.Header}
	var batch []manifest.Record
	subjects := []code.Code{mustCode(), mustCode()}
	for i := range 6 {
		s := samples[i%len(samples)]
		orig, err := os.ReadFile(filepath.Join("..", "testdata", "photos", s.name))
		if err != nil {
			return nil, err
		}
		if i >= len(samples) {
			orig = append(orig, byte(i)) // other bytes, as from another camera
		}
		ref, err := v.Put(context.Background(), bytes.NewReader(orig))
		if err != nil {
			return nil, err
		}
		photo := mustCode()
		path := release.PhotoPath(subjects[i/3], photo, s.format)
		released := append([]byte("stripped:"), orig...)
		if err := writeFile(filepath.Join(f.release, filepath.FromSlash(path)), released); err != nil {
			return nil, err
		}
		rh := sha256.Sum256(released)
		rec := &manifest.Ingest{
			Photo: photo.String(), Subject: subjects[i/3].String(), Phase: "before", Format: s.format,
			Released: manifest.Released{Path: path, SHA256: hex.EncodeToString(rh[:]), Size: int64(len(released)), Width: 640, Height: 480},
			Blob:     manifest.BlobInfo{SHA256: ref.Hash, Size: ref.Size},
			Time:     testTime,
			Sealed:   seal(manifest.Detail{Path: "inbox/MRN-1/before/" + s.name, Name: s.name, SHA256: ref.PlainSHA256, Size: ref.PlainSize, ModTime: testTime}),
		}
		f.photos = append(f.photos, rec)
		batch = append(batch, rec)
		index = append(index, rowOf(rec).Line())
		if i == 2 {
			batch = append(batch,
				&manifest.Duplicate{Of: f.photos[0].Photo, Time: testTime, Sealed: seal(manifest.Detail{Path: "inbox/x/before/copy.png", Name: "copy.png"})},
				&manifest.Quarantine{Reason: "phase", Time: testTime, Sealed: seal(manifest.Detail{Path: "inbox/x/lunch/a.jpg", Name: "a.jpg", Message: "unknown phase"})})
			if _, err := l.Append(batch); err != nil {
				return nil, err
			}
			batch = nil
		}
	}
	if sealErr != nil {
		return nil, sealErr
	}
	if _, err := l.Append(batch); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(f.release, release.IndexFile), []byte(strings.Join(index, ""))); err != nil {
		return nil, err
	}
	if f.pinned, err = os.ReadFile(filepath.Join(v.LogDir(), manifest.CheckpointFile)); err != nil {
		return nil, err
	}
	return f, nil
}

// rowOf is the index.csv row ingest writes for an ingest record.
func rowOf(r *manifest.Ingest) release.Row {
	p, _ := code.Parse(r.Photo)
	s, _ := code.Parse(r.Subject)
	return release.Row{Photo: p, Subject: s, Phase: r.Phase, Format: r.Format,
		Width: r.Released.Width, Height: r.Released.Height, SHA256: r.Released.SHA256}
}

func mustCode() code.Code {
	c, err := code.New()
	if err != nil {
		panic(err)
	}
	return c
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// run audits the fixture as veil verify --pub --release --checkpoint does.
func (f *fixture) run(t *testing.T) *manifest.Report {
	t.Helper()
	v, err := vault.OpenReadOnly(f.vault)
	if err != nil {
		t.Fatal(err)
	}
	pub := v.PublicKeys()
	rep, err := Run(t.Context(), v, Options{PinnedKeys: &pub, PinnedCheckpoint: f.pinned, Release: f.release})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// blob returns the path of the ith photo's blob.
func (f *fixture) blob(t *testing.T, i int) string {
	t.Helper()
	v, err := vault.OpenReadOnly(f.vault)
	if err != nil {
		t.Fatal(err)
	}
	return v.BlobPath(f.photos[i].Blob.SHA256)
}

// released returns the path of the ith photo's released file.
func (f *fixture) released(i int) string {
	return filepath.Join(f.release, filepath.FromSlash(f.photos[i].Released.Path))
}
