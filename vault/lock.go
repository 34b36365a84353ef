package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// LockInfo names the holder of a vault lock.
type LockInfo struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Started time.Time `json:"started"`
}

// String describes the holder: "veil watch" (pid 4123 on host clinic-1 since 02:00).
func (i LockInfo) String() string {
	if i.PID == 0 {
		return "another process (it has not yet named itself in the lock file)"
	}
	since := i.Started.Local().Format("15:04")
	if y, m, d := i.Started.Local().Date(); y != time.Now().Year() || m != time.Now().Month() || d != time.Now().Day() {
		since = i.Started.Local().Format("2006-01-02 15:04")
	}
	return fmt.Sprintf("%q (pid %d on host %s since %s)", i.Command, i.PID, i.Host, since)
}

// LockedError is returned by AcquireLock when another writer holds the lock.
type LockedError struct {
	Holder LockInfo
	// Unverifiable is set when the lock file names a holder on another host
	// whose lock is not held: it may have crashed, but that cannot be checked
	// from here.
	Unverifiable bool
	Path         string
}

func (e *LockedError) Error() string {
	if e.Unverifiable {
		return fmt.Sprintf("vault is locked by %v; if that host no longer runs veil, empty %s", e.Holder, e.Path)
	}
	return fmt.Sprintf("vault is locked by %v", e.Holder)
}

// Lock is a held vault lock.
type Lock struct {
	f     *os.File
	stale *LockInfo
}

// Stale returns the holder of a lock left behind by a dead process on this
// host, which AcquireLock broke to take the lock, or nil. The caller should
// warn about it: that process did not finish cleanly.
func (l *Lock) Stale() *LockInfo { return l.stale }

// lockPoll bounds the wait between attempts while waiting for a lock.
const lockPoll = 200 * time.Millisecond

// AcquireLock takes the writer lock of the vault in dir for command (e.g.
// "veil ingest"). If another process holds it, AcquireLock retries until wait
// has passed or ctx is done, then returns a *LockedError naming the holder.
// wait == 0 means a single attempt.
func AcquireLock(ctx context.Context, dir, command string, wait time.Duration) (*Lock, error) {
	name := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("vault: lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	delay := 10 * time.Millisecond
	for {
		l, err := tryLock(f, name, command)
		if err == nil {
			return l, nil
		}
		var le *LockedError
		if !errors.As(err, &le) || time.Now().Add(delay).After(deadline) {
			f.Close()
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, lockPoll)
	}
}

func tryLock(f *os.File, name, command string) (*Lock, error) {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		info, _ := readLockInfo(f)
		return nil, &LockedError{Holder: info, Path: name}
	}
	if err != nil {
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	// The flock is ours. A holder still named in the file did not release:
	// it crashed, unless it runs on another host whose locks we cannot see.
	l := &Lock{f: f}
	prev, err := readLockInfo(f)
	if err != nil {
		l.stale = &prev // unreadable: a crash in the middle of writing it
	} else if prev.PID != 0 {
		if prev.Host == hostname() && !processAlive(prev.PID) {
			l.stale = &prev
		} else if prev.Host != hostname() {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			return nil, &LockedError{Holder: prev, Unverifiable: true, Path: name}
		} else {
			// A live process on this host named in an unlocked file: the pid
			// was reused after a crash. The flock is the truth.
			l.stale = &prev
		}
	}
	info := LockInfo{Host: hostname(), PID: os.Getpid(), Command: command, Started: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(info)
	if err := writeLockInfo(f, append(b, '\n')); err != nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	return l, nil
}

func readLockInfo(f *os.File) (LockInfo, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return LockInfo{}, err
	}
	var info LockInfo
	if len(bytes.TrimSpace(b)) == 0 {
		return info, nil
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return LockInfo{Command: "unknown (unreadable lock file)"}, err
	}
	return info, nil
}

func writeLockInfo(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	_, err := f.WriteAt(b, 0)
	return err
}

// Release empties the lock file, so that the next holder does not mistake it
// for a crash, and unlocks it. The file itself stays: removing a flock'ed file
// would let two processes lock different inodes of the same name.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := writeLockInfo(l.f, nil)
	if uerr := unix.Flock(int(l.f.Fd()), unix.LOCK_UN); err == nil {
		err = uerr
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("vault: unlock: %w", err)
	}
	return nil
}

// WaitLock takes the vault lock like AcquireLock, and says when it must
// wait: if another writer holds the lock, waiting is called once with the
// *LockedError naming the holder, and WaitLock then retries until wait has
// passed or ctx is done. wait == 0 means a single attempt, and waiting is
// not called. The error after giving up is the last *LockedError.
func WaitLock(ctx context.Context, dir, command string, wait time.Duration, waiting func(*LockedError)) (*Lock, error) {
	l, err := AcquireLock(ctx, dir, command, 0)
	var le *LockedError
	if !errors.As(err, &le) || wait <= 0 {
		return l, err
	}
	if waiting != nil {
		waiting(le)
	}
	return AcquireLock(ctx, dir, command, wait)
}

// Holds reports whether l is still held and is the lock of v: the proof a
// writer asks for before it changes the vault.
func (l *Lock) Holds(v *Vault) bool {
	if l == nil || l.f == nil || v == nil {
		return false
	}
	held, err := l.f.Stat()
	if err != nil {
		return false
	}
	named, err := os.Stat(filepath.Join(v.Dir(), lockFile))
	return err == nil && os.SameFile(held, named)
}
