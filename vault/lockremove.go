package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNotLocked is returned by Unlock when the lock file names no holder.
var ErrNotLocked = errors.New("vault: the vault is not locked")

// HolderAliveError is returned by Unlock when the holder named in the lock
// file still runs on this host: its lock is not stale, whatever it looks
// like, and removing it would let two writers in.
type HolderAliveError struct {
	Holder LockInfo
	// Held is set when the lock itself is held (the holder is a live
	// writer); otherwise the named process is alive but could not be told
	// apart from an unrelated process that reused its pid.
	Held bool
}

func (e *HolderAliveError) Error() string {
	if e.Held {
		return fmt.Sprintf("vault: the lock is held by %v, which is running: stop it instead", e.Holder)
	}
	return fmt.Sprintf("vault: the lock names %v, and a process with that pid runs on this host: if it is not veil, stop it or wait for it to exit", e.Holder)
}

// ForeignLockError is returned by Unlock without force when the lock belongs
// to another host: whether that veil still runs can only be checked there.
type ForeignLockError struct {
	Holder    LockInfo
	Heartbeat time.Time // when the holder last touched the lock file
}

func (e *ForeignLockError) Error() string {
	return fmt.Sprintf("vault: the lock belongs to %v on another host, last heartbeat %v ago: check that veil no longer runs on %s, then force",
		e.Holder, ago(e.Heartbeat), e.Holder.Host)
}

// Removed describes the lock Unlock removed.
type Removed struct {
	Holder    LockInfo
	Heartbeat time.Time
	Path      string
}

// Unlock removes the lock of a writer that no longer runs: the lock file is
// emptied (not deleted, see Release) under the lock itself, so a writer
// starting meanwhile is never cut off. It refuses with *HolderAliveError
// while the holder runs on this host, and with *ForeignLockError for another
// host's lock unless force is set. A lock held through a shared file system
// by a live writer on another host is refused as held even with force.
func Unlock(dir string, force bool) (*Removed, error) {
	name := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(dir, configFile)); serr != nil {
			if _, derr := os.Stat(dir); derr != nil {
				return nil, &NotVaultError{Dir: dir, Err: derr}
			}
			return nil, &NotVaultError{Dir: dir}
		}
		return nil, ErrNotLocked
	}
	if err != nil {
		return nil, fmt.Errorf("vault: unlock: %w", err)
	}
	defer f.Close()
	if err := lockFileEx(f); errors.Is(err, errLockBusy) {
		info, _ := readLockInfo(f)
		return nil, &HolderAliveError{Holder: info, Held: true}
	} else if err != nil {
		return nil, fmt.Errorf("vault: unlock %s: %w", name, err)
	}
	defer unlockFile(f)
	info, rerr := readLockInfo(f)
	if rerr == nil && info.PID == 0 {
		return nil, ErrNotLocked
	}
	r := &Removed{Holder: info, Path: name}
	if fi, err := f.Stat(); err == nil {
		r.Heartbeat = fi.ModTime()
	}
	if rerr == nil {
		switch {
		case info.Host != hostname():
			if !force {
				return nil, &ForeignLockError{Holder: info, Heartbeat: r.Heartbeat}
			}
		case info.PID != os.Getpid() && processAlive(info.PID):
			// The lock is free, so that pid no longer holds it; but unless
			// the process is known not to be veil, leave it to a person.
			if veil, known := processIsVeil(info.PID); veil || !known {
				return nil, &HolderAliveError{Holder: info}
			}
		}
	}
	if err := writeLockInfo(f, nil); err != nil {
		return nil, fmt.Errorf("vault: unlock %s: %w", name, err)
	}
	return r, nil
}
