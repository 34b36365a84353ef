package filekind

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
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
		t.Fatal(err)
	}
	if _, _, err := OpenRegular(link); !errors.Is(err, ErrSymlink) || !errors.Is(err, ErrNotRegular) {
		t.Fatalf("symlink: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenRegular(fifo); !errors.Is(err, ErrNotRegular) || errors.Is(err, ErrSymlink) {
		t.Fatalf("fifo: %v", err)
	}
	if _, _, err := OpenRegular(dir); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("folder: %v", err)
	}
	_, _, err = OpenRegular(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) || Bare(err) != syscall.ENOENT {
		t.Fatalf("missing: %v", err)
	}
}
