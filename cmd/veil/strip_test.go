package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/photo"
)

// TestStripDiskFull fills a real small file system (a 256 kB tmpfs, so it
// needs root) and checks that strip stops with one clear error, that every
// copy with a final name is complete, and that no temporary file is left.
func TestStripDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	out := filepath.Join(t.TempDir(), "small")
	os.Mkdir(out, 0o755)
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", out).Run(); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { exec.Command("umount", out).Run() })

	in := t.TempDir()
	src, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "photos"))
	for i := range 12 {
		if err := os.CopyFS(filepath.Join(in, string(rune('a'+i))), os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	err := runStrip(context.Background(), StripOptions{OutDir: out, Workers: 2}, []string{in}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no space left on device; stopped") {
		t.Fatalf("err = %v, want a no-space error", err)
	}
	if exitCode(err) != exitError {
		t.Errorf("exit code %d", exitCode(err))
	}
	n := 0
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if atomicfile.IsTemp(d.Name()) {
			t.Errorf("temporary file left: %s", p)
		}
		f, _ := os.Open(p)
		defer f.Close()
		fi, _ := f.Stat()
		var buf bytes.Buffer
		if _, err := photo.Strip(&buf, f, fi.Size()); err != nil {
			t.Errorf("%s has its final name but is not a complete photo: %v", p, err)
		}
		n++
		return nil
	})
	t.Logf("%d complete copies before the disk filled; %s", n, err)
	if n == 0 {
		t.Error("no copies were written at all")
	}
	io.Copy(io.Discard, &stderr)
}
