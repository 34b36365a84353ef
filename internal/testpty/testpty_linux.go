// Package testpty gives tests a real pseudo-terminal, so that what veil
// does at a terminal is tested as a user meets it.
package testpty

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Open returns the two ends of a new pseudo-terminal, and skips the test
// where there are none.
func Open(t *testing.T) (master, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open tty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// Drain discards what the terminal shows, so the master never fills up.
func Drain(master *os.File) { go io.Copy(io.Discard, master) }

// Expect reads the terminal until it has shown want.
func Expect(t *testing.T, master *os.File, want string) {
	t.Helper()
	var seen []byte
	buf := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(30 * time.Second))
	for !bytes.Contains(seen, []byte(want)) {
		n, err := master.Read(buf)
		seen = append(seen, buf[:n]...)
		if err != nil {
			t.Fatalf("terminal showed %q, then %v; want %q", seen, err, want)
		}
	}
}
