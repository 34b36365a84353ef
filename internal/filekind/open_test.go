package filekind

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenRegular(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "a.jpg")
	if err := os.WriteFile(reg, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, fi, err := OpenRegular(reg)
	if err != nil || fi.Size() != 1 {
		t.Fatalf("regular file: %v", err)
	}
	f.Close()

	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(reg, link); err != nil {
		// Windows allows symbolic links only to administrators or in
		// developer mode.
		t.Logf("no symbolic link test here: %v", err)
	} else if _, err := os.Lstat(link); err != nil {
		// Wine makes a link it cannot read back.
		t.Logf("no symbolic link test here: %v", err)
	} else if _, _, err := OpenRegular(link); !errors.Is(err, ErrSymlink) || !errors.Is(err, ErrNotRegular) {
		t.Fatalf("symlink: %v", err)
	}
	if _, _, err := OpenRegular(dir); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("folder: %v", err)
	}
	_, _, err = OpenRegular(filepath.Join(dir, "missing"))
	var pe *fs.PathError
	if !errors.Is(err, os.ErrNotExist) || !errors.As(err, &pe) || !errors.Is(Bare(err), fs.ErrNotExist) || errors.As(Bare(err), &pe) {
		t.Fatalf("missing: %v", err)
	}
}
