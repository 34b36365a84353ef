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
	"sync"
	"time"
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

// Heartbeat and StaleAfter are the stale-lock rule for a holder on another
// host, whose process cannot be checked from here: a holder touches the lock
// file every Heartbeat, so a lock file from another host not touched for
// StaleAfter belongs to a veil that no longer runs there (or to a host whose
// clock is that far off). StaleAfter leaves room for clock skew between
// hosts and for a host that is busy or briefly suspended.
const (
	Heartbeat  = time.Minute
	StaleAfter = 10 * time.Minute
)

// LockedError is returned by AcquireLock when another writer holds the lock.
type LockedError struct {
	Holder LockInfo
	// Unverifiable is set when the lock file names a holder on another host
	// whose lock is not held here: locks may not reach across hosts, so it
	// may be running or may have crashed.
	Unverifiable bool
	// Stale is set with Unverifiable when that holder's heartbeat stopped
	// more than StaleAfter ago: it crashed or lost the vault. Waiting would
	// not help; the lock must be removed (Unlock with force).
	Stale bool
	// Heartbeat is when the holder last touched the lock file (set with
	// Unverifiable).
	Heartbeat time.Time
	Path      string
}

func (e *LockedError) Error() string {
	switch {
	case e.Stale:
		return fmt.Sprintf("vault is locked by %v, whose heartbeat stopped %v ago: if veil no longer runs on %s, remove the lock with 'veil unlock --force --vault %s'",
			e.Holder, ago(e.Heartbeat), e.Holder.Host, filepath.Dir(e.Path))
	case e.Unverifiable:
		return fmt.Sprintf("vault is locked by %v (another host: its lock file was touched %v ago)", e.Holder, ago(e.Heartbeat))
	}
	return fmt.Sprintf("vault is locked by %v", e.Holder)
}

// ago says how long ago t was, in the unit a person would use.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// Lock is a held vault lock.
type Lock struct {
	f     *os.File
	stale *LockInfo
	stop  chan struct{}
	done  sync.WaitGroup
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
// wait == 0 means a single attempt. A stale lock of another host is
// returned at once: it will not go away by waiting.
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
		if !errors.As(err, &le) || le.Stale || time.Now().Add(delay).After(deadline) {
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
	err := lockFileEx(f)
	if errors.Is(err, errLockBusy) {
		info, _ := readLockInfo(f)
		return nil, &LockedError{Holder: info, Path: name}
	}
	if err != nil {
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	// The lock is ours. A holder still named in the file did not release:
	// it crashed, unless it runs on another host whose locks we cannot see.
	l := &Lock{f: f}
	prev, err := readLockInfo(f)
	if err != nil {
		l.stale = &prev // unreadable: a crash in the middle of writing it
	} else if prev.PID != 0 {
		if prev.Host != hostname() {
			unlockFile(f)
			return nil, foreignLocked(f, name, prev)
		}
		// A dead process on this host, or a live one named in an unlocked
		// file: the pid was reused after a crash. The lock is the truth.
		l.stale = &prev
	}
	info := LockInfo{Host: hostname(), PID: os.Getpid(), Command: command, Started: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(info)
	if err := writeLockInfo(f, append(b, '\n')); err != nil {
		unlockFile(f)
		return nil, fmt.Errorf("vault: lock %s: %w", name, err)
	}
	l.stop = make(chan struct{})
	l.done.Add(1)
	go l.heartbeat(name)
	return l, nil
}

// foreignLocked is the error for a lock file naming a holder on another
// host: stale once its heartbeat is older than StaleAfter.
func foreignLocked(f *os.File, name string, holder LockInfo) *LockedError {
	le := &LockedError{Holder: holder, Unverifiable: true, Path: name, Heartbeat: holder.Started}
	if fi, err := f.Stat(); err == nil {
		le.Heartbeat = fi.ModTime()
	}
	le.Stale = time.Since(le.Heartbeat) > StaleAfter
	return le
}

// heartbeat touches the lock file every Heartbeat while the lock is held,
// so that a veil on another host sharing the vault sees this holder is
// alive. A failed touch is not an error of the writer: at worst the other
// host reports this lock as stale, and a person decides.
func (l *Lock) heartbeat(name string) {
	defer l.done.Done()
	t := time.NewTicker(Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.beat(name)
		}
	}
}

// beat touches the lock file: its mtime is the heartbeat.
func (l *Lock) beat(name string) {
	now := time.Now()
	os.Chtimes(name, now, now)
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
// for a crash, and unlocks it. The file itself stays: removing a locked file
// would let two processes lock different inodes of the same name.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	close(l.stop)
	l.done.Wait()
	err := writeLockInfo(l.f, nil)
	if uerr := unlockFile(l.f); err == nil {
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
	if !errors.As(err, &le) || wait <= 0 || le.Stale {
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
