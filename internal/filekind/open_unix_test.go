//go:build unix

package filekind

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenFIFO: a FIFO is refused without blocking on its open (there are
// none in Windows folders).
func TestOpenFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenRegular(fifo); !errors.Is(err, ErrNotRegular) || errors.Is(err, ErrSymlink) {
		t.Fatalf("fifo: %v", err)
	}
	_, _, err := OpenRegular(filepath.Join(filepath.Dir(fifo), "missing"))
	if Bare(err) != syscall.ENOENT {
		t.Fatalf("missing: Bare gives %v, want ENOENT", Bare(err))
	}
}
