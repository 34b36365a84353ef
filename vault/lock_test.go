package vault

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeHolder leaves a lock file naming holder, last touched at beat, as a
// writer that is gone (or runs elsewhere) leaves it.
func writeHolder(t *testing.T, dir, holder string, beat time.Time) string {
	t.Helper()
	name := filepath.Join(dir, "lock")
	if err := os.WriteFile(name, []byte(holder), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(name, beat, beat); err != nil {
		t.Fatal(err)
	}
	return name
}

const otherHost = `{"host":"clinic-2","pid":4123,"command":"veil watch","started":"2024-05-01T02:00:00Z"}`

func TestLockOtherHost(t *testing.T) {
	v, _ := newTestVault(t)
	// A lock file of another host sharing the vault, touched a minute ago:
	// its writer runs there as far as can be told from here, so the lock is
	// not broken, and a writer here waits.
	writeHolder(t, v.Dir(), otherHost, time.Now().Add(-time.Minute))
	_, err := AcquireLock(t.Context(), v.Dir(), "veil ingest", 0)
	var le *LockedError
	if !errors.As(err, &le) || !le.Unverifiable || le.Stale || le.Holder.Host != "clinic-2" {
		t.Fatalf("AcquireLock: %v", err)
	}
	if !strings.Contains(err.Error(), `"veil watch" (pid 4123 on host clinic-2 since 2024-05-01`) || !strings.Contains(err.Error(), "touched 1m0s ago") {
		t.Errorf("message: %v", err)
	}
	// The same lock without a heartbeat for longer than StaleAfter is stale:
	// reported at once, even to a writer willing to wait an hour, with the
	// command that removes it.
	writeHolder(t, v.Dir(), otherHost, time.Now().Add(-StaleAfter-time.Minute))
	start := time.Now()
	_, err = WaitLock(t.Context(), v.Dir(), "veil ingest", time.Hour, func(*LockedError) { t.Error("waited for a stale lock") })
	if !errors.As(err, &le) || !le.Stale || time.Since(start) > 10*time.Second {
		t.Fatalf("WaitLock on a stale lock: %v after %v", err, time.Since(start))
	}
	if want := "veil unlock --force --vault " + v.Dir(); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "heartbeat stopped 11m0s ago") {
		t.Errorf("message %q does not name %q", err, want)
	}
}

// TestLockHeartbeat: a held lock's file is touched every Heartbeat; beat is
// what the ticker calls.
func TestLockHeartbeat(t *testing.T) {
	v, _ := newTestVault(t)
	l, err := AcquireLock(t.Context(), v.Dir(), "veil watch", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	name := filepath.Join(v.Dir(), "lock")
	old := time.Now().Add(-time.Hour)
	os.Chtimes(name, old, old)
	l.beat(name)
	if fi, err := os.Stat(name); err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("lock file not touched by a beat: %v %v", fi.ModTime(), err)
	}
}

func TestUnlock(t *testing.T) {
	v, _ := newTestVault(t)
	if _, err := Unlock(v.Dir(), false); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Unlock of a free vault: %v", err)
	}
	if _, err := Unlock(t.TempDir(), false); !errors.Is(err, ErrNotVault) {
		t.Errorf("Unlock of a folder that is not a vault: %v, want ErrNotVault", err)
	}
	if _, err := Unlock(filepath.Join(t.TempDir(), "nowhere"), false); !errors.Is(err, ErrNotVault) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Unlock of a missing folder: %v, want ErrNotVault wrapping ErrNotExist", err)
	}

	// Another host's lock needs force, and then names what it removed.
	name := writeHolder(t, v.Dir(), otherHost, time.Now().Add(-time.Hour))
	var fe *ForeignLockError
	if _, err := Unlock(v.Dir(), false); !errors.As(err, &fe) || fe.Holder.Host != "clinic-2" {
		t.Fatalf("Unlock of another host's lock without force: %v", err)
	}
	r, err := Unlock(v.Dir(), true)
	if err != nil || r.Holder.PID != 4123 || r.Holder.Command != "veil watch" || r.Path != name || time.Since(r.Heartbeat) < 59*time.Minute {
		t.Fatalf("Unlock --force: %+v, %v", r, err)
	}
	if b, _ := os.ReadFile(name); len(b) != 0 {
		t.Errorf("lock file after Unlock: %q", b)
	}
	l, err := AcquireLock(t.Context(), v.Dir(), "veil ingest", 0)
	if err != nil || l.Stale() != nil {
		t.Fatalf("AcquireLock after Unlock: %v", err)
	}
	l.Release()
}

// TestUnlockLiveHolder: a writer that holds the lock, here or through a
// shared file system, is never unlocked, not even with force.
func TestUnlockLiveHolder(t *testing.T) {
	v, _ := newTestVault(t)
	h := startHelper(t, "lock", v.Dir())
	h.expect(t, "locked")
	var ae *HolderAliveError
	if _, err := Unlock(v.Dir(), true); !errors.As(err, &ae) || !ae.Held || ae.Holder.PID != h.cmd.Process.Pid {
		t.Fatalf("Unlock while held: %v", err)
	}
	// Dead: its lock is gone with it, the file still names it.
	pid := h.cmd.Process.Pid
	h.kill(t)
	r, err := Unlock(v.Dir(), false)
	if err != nil || r.Holder.PID != pid {
		t.Fatalf("Unlock after the holder died: %+v, %v", r, err)
	}
}

// TestUnlockReusedPID: the lock file names a live process of this host that
// does not hold the lock. If it is not veil, its pid was reused and the lock
// is removed; if it may be veil, a person must look.
func TestUnlockReusedPID(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command to stand for an unrelated process")
	}
	v, _ := newTestVault(t)
	cmd := exec.Command(sleep, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	holder := `{"host":"` + hostname() + `","pid":` + strconv.Itoa(cmd.Process.Pid) + `,"command":"veil watch","started":"2024-05-01T02:00:00Z"}`
	writeHolder(t, v.Dir(), holder, time.Now())
	_, known := processIsVeil(cmd.Process.Pid)
	r, err := Unlock(v.Dir(), false)
	var ae *HolderAliveError
	switch {
	case known && (err != nil || r.Holder.PID != cmd.Process.Pid):
		t.Fatalf("Unlock naming an unrelated live process: %+v, %v", r, err)
	case !known && (!errors.As(err, &ae) || ae.Held):
		t.Fatalf("Unlock naming a live process that may be veil: %v", err)
	}
	// A live test binary of this package counts as veil: it takes vault
	// locks. Here it holds the lock of another vault.
	h := startHelper(t, "lock", t.TempDir())
	h.expect(t, "locked")
	holder = `{"host":"` + hostname() + `","pid":` + strconv.Itoa(h.cmd.Process.Pid) + `,"command":"veil watch","started":"2024-05-01T02:00:00Z"}`
	writeHolder(t, v.Dir(), holder, time.Now())
	if _, err := Unlock(v.Dir(), true); !errors.As(err, &ae) || ae.Held || ae.Holder.PID != h.cmd.Process.Pid {
		t.Fatalf("Unlock naming a live veil that does not hold the lock: %v", err)
	}
}
