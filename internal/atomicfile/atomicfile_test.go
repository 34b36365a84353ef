package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCommitAndNoReplace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.jpg")
	f, err := Create(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("one")
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("target visible before commit")
	}
	if err := f.Commit(true); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no-op after commit
	if b, _ := os.ReadFile(target); string(b) != "one" {
		t.Fatalf("target holds %q", b)
	}
	// Windows has no POSIX permissions, only a read-only attribute.
	if fi, _ := os.Stat(target); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}

	g, _ := Create(target, 0o644)
	g.WriteString("two")
	if err := g.Commit(true); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("no-replace commit over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "one" {
		t.Fatalf("existing file changed to %q", b)
	}
	assertNoTemps(t, dir)
}

func TestPendingGroupCommit(t *testing.T) {
	dir := t.TempDir()
	var ps []*Pending
	for _, n := range []string{"a", "b", "c"} {
		f, err := Create(filepath.Join(dir, n), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(n)
		p, err := f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if err := SyncFS(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[:2] {
		if err := p.Publish(false); err != nil {
			t.Fatal(err)
		}
	}
	ps[2].Discard()
	for n, want := range map[string]string{"a": "a", "b": "b"} {
		if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != want {
			t.Errorf("%s holds %q", n, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c")); err == nil {
		t.Error("discarded file was published")
	}
	assertNoTemps(t, dir)
}

func TestAbortRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	f, _ := Create(filepath.Join(dir, "x"), 0o644)
	f.WriteString("partial")
	f.Abort()
	assertNoTemps(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("aborted file exists")
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if IsTemp(e.Name()) {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}
