package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/veil-photo/veil/internal/atomicfile"
)

// TestLockContention runs a second, real process that holds the lock, and
// checks that this one fails with a message naming it, then gets the lock as
// soon as the holder releases it.
func TestLockContention(t *testing.T) {
	v, _ := newTestVault(t)
	h := startHelper(t, "lock", v.Dir())
	h.expect(t, "locked")

	_, err := AcquireLock(t.Context(), v.Dir(), "veil ingest", 0)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("AcquireLock while held: %v, want a LockedError", err)
	}
	if le.Holder.PID != h.cmd.Process.Pid || le.Holder.Command != "veil watch" || le.Holder.Host != hostname() {
		t.Errorf("holder %+v, want pid %d of \"veil watch\" on %s", le.Holder, h.cmd.Process.Pid, hostname())
	}
	re := regexp.MustCompile(`^vault is locked by "veil watch" \(pid [0-9]+ on host .+ since [0-9]{2}:[0-9]{2}\)$`)
	if !re.MatchString(err.Error()) {
		t.Errorf("message %q does not match %v", err, re)
	}

	// A waiting writer gets the lock once the holder releases it.
	got := make(chan error, 1)
	go func() {
		l, err := AcquireLock(context.Background(), v.Dir(), "veil ingest", time.Minute)
		if err == nil {
			if l.Stale() != nil {
				err = errors.New("a cleanly released lock was reported stale")
			}
			l.Release()
		}
		got <- err
	}()
	h.stdin.Close() // the helper releases and exits
	if err := <-got; err != nil {
		t.Fatalf("waiting AcquireLock: %v", err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(v.Dir(), "lock")); len(b) != 0 {
		t.Errorf("released lock file still names a holder: %s", b)
	}
}

// TestLockStale kills the holder: the kernel drops its flock, the file still
// names it, and the next writer takes the lock and learns of the crash.
func TestLockStale(t *testing.T) {
	v, _ := newTestVault(t)
	h := startHelper(t, "lock", v.Dir())
	h.expect(t, "locked")
	pid := h.cmd.Process.Pid
	h.kill(t)

	l, err := AcquireLock(t.Context(), v.Dir(), "veil ingest", 0)
	if err != nil {
		t.Fatalf("AcquireLock after the holder died: %v", err)
	}
	defer l.Release()
	if s := l.Stale(); s == nil || s.PID != pid || s.Command != "veil watch" {
		t.Errorf("Stale() = %+v, want the dead holder pid %d", s, pid)
	}
	b, _ := os.ReadFile(filepath.Join(v.Dir(), "lock"))
	if !strings.Contains(string(b), `"command":"veil ingest"`) {
		t.Errorf("lock file does not name the new holder: %s", b)
	}
}

func TestLockInProcess(t *testing.T) {
	v, _ := newTestVault(t)
	l, err := AcquireLock(t.Context(), v.Dir(), "veil ingest", 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder in the same process is refused too: flock locks
	// belong to the open file, not the process.
	if _, err := AcquireLock(t.Context(), v.Dir(), "veil watch", 0); !errors.As(err, new(*LockedError)) {
		t.Errorf("second AcquireLock: %v", err)
	}
	// Waiting ends with the context.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := AcquireLock(ctx, v.Dir(), "veil watch", time.Hour); !errors.Is(err, context.Canceled) || !errors.As(err, new(*LockedError)) {
		t.Errorf("AcquireLock with a cancelled context: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := AcquireLock(t.Context(), v.Dir(), "veil watch", 0)
	if err != nil {
		t.Fatalf("AcquireLock after Release: %v", err)
	}
	l2.Release()
}

// TestPutKilled SIGKILLs a real process in the middle of a Put: only a temp
// file is left, a running writer's temp survives Open, and once the writer
// is dead the next Open removes it.
func TestPutKilled(t *testing.T) {
	v, _ := newTestVault(t)
	h := startHelper(t, "put", v.Dir())
	h.expect(t, "ready")

	blobs := filepath.Join(v.Dir(), "blobs")
	entries, _ := os.ReadDir(blobs)
	if len(entries) != 1 || !atomicfile.IsTemp(entries[0].Name()) {
		t.Fatalf("during Put blobs/ holds %v, want one temp file", entries)
	}
	temp := filepath.Join(blobs, entries[0].Name())
	if info, _ := os.Stat(temp); info == nil || info.Size() < 1<<20 {
		t.Fatalf("temp file %v has not received the stream", info)
	}
	// Open must not take a live writer's work in progress.
	v2, err := Open(v.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.CleanedTemps()) != 0 {
		t.Fatalf("Open removed a live writer's temp: %v", v2.CleanedTemps())
	}

	h.kill(t)
	entries, _ = os.ReadDir(blobs)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(temp) {
		t.Fatalf("after the crash blobs/ holds %v, want only the temp file", entries)
	}
	v3, err := Open(v.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if c := v3.CleanedTemps(); len(c) != 1 || c[0] != temp {
		t.Errorf("CleanedTemps %v, want [%s]", c, temp)
	}
	if entries, _ := os.ReadDir(blobs); len(entries) != 0 {
		t.Errorf("after Open blobs/ holds %v", entries)
	}
	if err := v3.WalkBlobs(func(h string, _ int64) error { t.Errorf("blob %s after a crashed Put", h); return nil }); err != nil {
		t.Error(err)
	}
}

func TestTempName(t *testing.T) {
	for _, tt := range []struct {
		name string
		pid  int
		host string
		ok   bool
	}{
		{atomicfile.TempPrefix + "put.4123.clinic-1.998877", 4123, "clinic-1", true},
		{atomicfile.TempPrefix + "put.4123.clinic_1_local.1", 4123, "clinic_1_local", true},
		{atomicfile.TempPrefix + "put.x.clinic-1.1", 0, "", false},
		{atomicfile.TempPrefix + "put.0.h.1", 0, "", false},
		{atomicfile.TempPrefix + "vault.json-123", 0, "", false},
		{"put.1.h.1", 0, "", false},
	} {
		pid, host, ok := parseTempName(tt.name)
		if pid != tt.pid || host != tt.host || ok != tt.ok {
			t.Errorf("parseTempName(%q) = %d, %q, %v", tt.name, pid, host, ok)
		}
	}
	if _, _, ok := parseTempName(strings.Replace(tempPattern(), "*", "123", 1)); !ok {
		t.Errorf("tempPattern %q does not parse", tempPattern())
	}
}
