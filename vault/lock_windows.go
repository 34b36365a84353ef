package vault

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"
)

// errLockBusy is what lockFileEx returns when another open file holds the
// lock.
var errLockBusy = errors.New("lock held by another open file")

// lockOffset is the byte locked: Windows byte-range locks are mandatory, so
// the lock sits far beyond the holder's description at the start of the
// file, which other processes must still read.
const lockOffsetHigh = 1 << 30

// lockFileEx takes an exclusive LockFileEx lock on f without blocking. Like
// flock it belongs to the open handle, and Windows drops it when the holder
// dies.
func lockFileEx(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLockBusy
	}
	return err
}

func unlockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// stillActive is the exit code GetExitCodeProcess reports for a process that
// has not exited.
const stillActive = 259

// processAlive reports whether pid runs on this host. Access denied means it
// exists but belongs to someone else.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return true
	}
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}

// processIsVeil reports whether the live process pid runs a veil binary;
// known = false when its image name cannot be read (another user's process).
func processIsVeil(pid int) (veil, known bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return false, false
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return false, false
	}
	base := strings.ToLower(filepath.Base(windows.UTF16ToString(buf[:n])))
	// A test binary of this module also takes vault locks.
	return strings.Contains(base, "veil") || strings.HasSuffix(base, ".test.exe"), true
}
