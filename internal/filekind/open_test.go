package filekind

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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

// OpenRegularIn opens a regular file in a Root, refuses a link (also one
// pointing inside the Root) and a folder, and never leaves the Root.
func TestOpenRegularIn(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(filepath.Join(in, "a"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "a", "1.jpg"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret.jpg"), []byte("secret"), 0o600)
	r, err := os.OpenRoot(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, fi, err := OpenRegularIn(r, filepath.Join("a", "1.jpg"))
	if err != nil || fi.Size() != 1 {
		t.Fatalf("regular file: %v", err)
	}
	f.Close()
	if _, _, err := OpenRegularIn(r, "a"); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("folder: %v", err)
	}
	if _, _, err := OpenRegularIn(r, filepath.Join("..", "secret.jpg")); err == nil {
		t.Fatal("opened a file outside the root")
	}
	if err := os.Symlink(filepath.Join("a", "1.jpg"), filepath.Join(in, "link.jpg")); err != nil {
		t.Skipf("no symbolic link test here: %v", err)
	}
	os.Symlink(dir, filepath.Join(in, "out"))
	// Wine makes links that its own Lstat then cannot find: on Windows any
	// refusal will do, elsewhere it must say why.
	switch _, _, err := OpenRegularIn(r, "link.jpg"); {
	case err == nil:
		t.Fatal("opened a symbolic link")
	case runtime.GOOS != "windows" && !errors.Is(err, ErrSymlink):
		t.Fatalf("symlink: %v", err)
	}
	if _, _, err := OpenRegularIn(r, filepath.Join("out", "secret.jpg")); err == nil {
		t.Fatal("opened a file through a link out of the root")
	}
}
