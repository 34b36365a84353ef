//go:build unix

package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errLockBusy is what lockFileEx returns when another open file holds the
// lock.
var errLockBusy = errors.New("lock held by another open file")

// lockFileEx takes an exclusive flock on f without blocking. flock locks
// belong to the open file, so a second open in the same process is refused
// too, and the kernel drops the lock when its holder dies.
func lockFileEx(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errLockBusy
	}
	return err
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// processAlive reports whether pid runs on this host. EPERM means it exists
// but belongs to someone else.
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// processIsVeil reports whether the live process pid runs a veil binary,
// and known = false where that cannot be told (no /proc: macOS, the BSDs,
// or another user's process under hidepid).
func processIsVeil(pid int) (veil, known bool) {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false, false
	}
	// A test binary of this module also takes vault locks.
	base := strings.TrimSuffix(filepath.Base(exe), " (deleted)")
	return strings.Contains(base, "veil") || strings.HasSuffix(base, ".test"), true
}
