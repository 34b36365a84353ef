package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/manifest"
)

// TestRunClean is the control for the tamper cases: an untouched vault and
// release folder audit without findings.
func TestRunClean(t *testing.T) {
	f := newFixture(t)
	rep := f.run(t)
	for _, x := range rep.Findings {
		t.Errorf("finding: %s", x)
	}
	if rep.Records != 9 || rep.Photos != 6 || rep.Subjects != 2 || rep.Duplicates != 1 || rep.Quarantines != 1 {
		t.Errorf("report counts = %+v", rep)
	}
}

// TestTamper damages the blobs and the release folder of a real vault in
// every way the audit must catch. Each case names the finding it must
// produce; {blobN}, {relN} and {subjN} stand for the Nth photo's blob,
// released path and subject.
func TestTamper(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		want   string // substring of a finding
	}{
		{"blob bit flipped", func(t *testing.T, f *fixture) {
			b := read(t, f.blob(t, 1))
			b[len(b)-5] ^= 0x10
			write(t, f.blob(t, 1), b)
		}, "record 2: blob {blob1}: content hash"},
		{"blob truncated", func(t *testing.T, f *fixture) {
			b := read(t, f.blob(t, 2))
			write(t, f.blob(t, 2), b[:len(b)-100])
		}, "record 3: blob {blob2}: size"},
		{"blob extended", func(t *testing.T, f *fixture) {
			write(t, f.blob(t, 4), append(read(t, f.blob(t, 4)), 0))
		}, "record 7: blob {blob4}: size"},
		{"blob missing", func(t *testing.T, f *fixture) {
			os.Remove(f.blob(t, 4))
		}, "record 7: blob {blob4}: missing"},
		{"blob replaced by a symbolic link to itself elsewhere", func(t *testing.T, f *fixture) {
			moved := filepath.Join(t.TempDir(), "blob")
			if err := os.Rename(f.blob(t, 3), moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(moved, f.blob(t, 3)); err != nil {
				t.Fatal(err)
			}
		}, "record 6: blob {blob3}: not a regular file"},
		{"orphan blob", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.vault, "blobs", "ab", strings.Repeat("ab", 32)+".age"), []byte("age-encryption.org/v1\n"))
		}, "blob abababababab…: no record references it (orphan)"},
		{"stray file in the blob store", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.vault, "blobs", "notes.txt"), []byte("x"))
		}, "blobs/notes.txt: unexpected file in the blob store"},
		{"a file left in the vault folder", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.vault, "Jane Doe.txt"), []byte("x"))
		}, `"Jane Doe.txt": unexpected entry in the vault folder`},
		{"a file left in the log folder", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.vault, "log", "notes"), []byte("x"))
		}, `"log/notes": unexpected entry in the log folder`},
		{"keys folder removed", func(t *testing.T, f *fixture) {
			if err := os.RemoveAll(filepath.Join(f.vault, "keys")); err != nil {
				t.Fatal(err)
			}
		}, "keys: missing from the vault folder"},
		{"index folder removed", func(t *testing.T, f *fixture) {
			if err := os.RemoveAll(filepath.Join(f.vault, "index")); err != nil {
				t.Fatal(err)
			}
		}, "index: missing from the vault folder"},
		{"two blobs swapped between records", func(t *testing.T, f *fixture) {
			a, b := read(t, f.blob(t, 0)), read(t, f.blob(t, 5))
			write(t, f.blob(t, 0), b)
			write(t, f.blob(t, 5), a)
		}, "record 8: blob {blob5}: content hash"},
		{"released file altered", func(t *testing.T, f *fixture) {
			b := read(t, f.released(1))
			b[20] ^= 1
			write(t, f.released(1), b)
		}, "record 2: released file {rel1}: content hash"},
		{"an empty folder named for a patient in the release folder", func(t *testing.T, f *fixture) {
			if err := os.Mkdir(filepath.Join(f.release, "Jane Doe 1985-03-02"), 0o750); err != nil {
				t.Fatal(err)
			}
		}, `folder "Jane Doe 1985-03-02": not a subject's folder`},
		{"a folder inside a subject's folder", func(t *testing.T, f *fixture) {
			if err := os.Mkdir(filepath.Join(filepath.Dir(f.released(1)), "notes"), 0o750); err != nil {
				t.Fatal(err)
			}
		}, `/notes": not a subject's folder`},
		{"released file missing", func(t *testing.T, f *fixture) {
			os.Remove(f.released(2))
		}, "record 3: released file {rel2}: missing"},
		{"released file added without a record", func(t *testing.T, f *fixture) {
			write(t, filepath.Join(f.release, f.photos[0].Subject, "extra.jpg"), []byte("x"))
		}, "released file {subj0}/extra.jpg: not in the log"},
		{"released file replaced by a folder", func(t *testing.T, f *fixture) {
			os.Remove(f.released(0))
			write(t, filepath.Join(f.released(0), "x"), []byte("x"))
		}, "record 1: released file {rel0}: missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tc.tamper(t, f)
			rep := f.run(t)
			want := f.expand(tc.want)
			var got []string
			for _, x := range rep.Findings {
				got = append(got, x.String())
			}
			for _, g := range got {
				if strings.Contains(g, want) {
					return
				}
			}
			t.Errorf("no finding contains %q; findings:\n%s", want, strings.Join(got, "\n"))
		})
	}
}

// TestDamagedRecordIsOneFinding checks that an ingest record that no longer
// parses is reported once, and its blob and released file are not also
// reported as an orphan and an unlogged file.
func TestDamagedRecordIsOneFinding(t *testing.T) {
	f := newFixture(t)
	records := filepath.Join(f.vault, "log", manifest.RecordsFile)
	b := read(t, records)
	write(t, records, []byte(strings.Replace(string(b), `"width":640`, `"width":"640"`, 1)))
	rep := f.run(t)
	for _, x := range rep.Findings {
		if x.Record == 1 && x.Check == manifest.CheckRecord || x.Check == manifest.CheckHashes || x.Check == manifest.CheckCheckpoint || x.Check == manifest.CheckPinned {
			continue
		}
		t.Errorf("unexpected finding: %s", x)
	}
}

func (f *fixture) expand(s string) string {
	for i, p := range f.photos {
		n := string(rune('0' + i))
		s = strings.ReplaceAll(s, "{blob"+n+"}", short(p.Blob.SHA256))
		s = strings.ReplaceAll(s, "{rel"+n+"}", p.Released.Path)
		s = strings.ReplaceAll(s, "{subj"+n+"}", p.Subject)
	}
	return s
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
}
