package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckApart(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "inbox")
	put(t, in, "Ann/before/a.png", []byte("x"))
	if err := os.Symlink(in, filepath.Join(dir, "link")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	for _, tc := range []struct {
		name   string
		folder string // under dir
		inbox  string // under dir
		inside bool
		apart  bool
	}{
		{"beside", "release", "inbox", false, true},
		{"in the inbox, not there yet", "inbox/release", "inbox", true, false},
		{"the inbox itself", "inbox", "inbox", true, false},
		{"through ..", "inbox/../inbox/vault", "inbox", true, false},
		{"through a symbolic link", "link/release", "inbox", true, false},
		{"the inbox inside", "out", "out/release/drop", false, false},
		{"a name that starts alike", "inbox2", "inbox", false, true},
	} {
		f := Folder{Name: "--out", Path: filepath.Join(dir, filepath.FromSlash(tc.folder))}
		err := CheckApart([]string{filepath.Join(dir, filepath.FromSlash(tc.inbox))}, Folder{Name: "--vault"}, f)
		var ae *ApartError
		if tc.apart {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.As(err, &ae) || ae.Inside != tc.inside || ae.Folder != f {
			t.Errorf("%s: %v, want an ApartError with Inside %v", tc.name, err, tc.inside)
		}
	}
	if !Overlap(filepath.Join(dir, "link", "site"), in) || Overlap(filepath.Join(dir, "site"), filepath.Join(dir, "release")) {
		t.Error("Overlap wrong")
	}
}
