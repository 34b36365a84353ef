package ingest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// asNobody runs the calling test again as the unprivileged user nobody,
// with setpriv, when the tests run as root: root reads, moves and removes
// anything, so what a permission stops can only be tested without it. It
// reports whether the caller is done (the test ran as nobody).
func asNobody(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root without setpriv: cannot drop the permissions this test is about")
	}
	tmp := t.TempDir()
	for d := tmp; strings.HasPrefix(filepath.Dir(d), os.TempDir()+string(filepath.Separator)); d = filepath.Dir(d) {
		os.Chmod(filepath.Dir(d), 0o755) // t.TempDir's folders are 0700
	}
	if err := os.Chown(tmp, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	return true
}

// TestLeftBehindReported: as a user who may not read one patient's folder,
// nor write to another's, the walk goes on past the unreadable folder, and
// every file that stays in the inbox against veil's will is reported as
// such, never as "left for the next run" (issue 14, findings 1 and 2).
func TestLeftBehindReported(t *testing.T) {
	if asNobody(t) {
		return
	}
	e := newEnv(t)
	jpg := sample(t, "phone-rotated6.jpg")
	for i := range 10 {
		// Distinct bytes: one more byte of junk before EOI.
		put(t, e.inbox, fmt.Sprintf("Patient %02d/before/IMG_%d.jpg", i, i), append(append([]byte{}, jpg[:len(jpg)-2]...), byte(i), 0xff, 0xd9))
	}
	put(t, e.inbox, "Read Only/before/a.png", sample(t, "clinic.png"))
	put(t, e.inbox, "Read Only/weird/b.webp", sample(t, "rose-exif.webp"))
	locked := filepath.Join(e.inbox, "Patient 03")
	for _, d := range []string{locked, filepath.Join(e.inbox, "Read Only", "before"), filepath.Join(e.inbox, "Read Only", "weird")} {
		mode := os.FileMode(0o555)
		if d == locked {
			mode = 0
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(d, 0o755) })
	}
	sum, err := e.run(t, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ingested != 10 || sum.Stuck != 2 || sum.Unremoved != 1 || sum.Left != 0 || sum.Quarantined != 0 || sum.LeftBehind() != 3 {
		t.Fatalf("summary %+v, events %+v", sum, e.events)
	}
	want := map[string]string{
		locked: "folder cannot be read, the photos in it were not looked at: permission denied; the veil user needs read access to it (see docs/permissions.md)",
		filepath.Join(e.inbox, "Read Only/before/a.png"): "committed, but the source could not be removed: permission denied; the veil user needs write access to its folder (see docs/permissions.md); remove it by hand (its photo is safe in the vault)",
		filepath.Join(e.inbox, "Read Only/weird/b.webp"): `should be quarantined (phase) but cannot be moved there: permission denied; the veil user needs write access to its folder and to .quarantine (see docs/permissions.md); or move it out of the inbox by hand`,
	}
	for _, ev := range e.events {
		if ev.Kind != Stuck && ev.Kind != Unremoved {
			continue
		}
		if want[ev.Path] != ev.Message {
			t.Errorf("%s %s: %q, want %q", ev.Kind, ev.Path, ev.Message, want[ev.Path])
		}
		delete(want, ev.Path)
	}
	for p := range want {
		t.Errorf("%s not reported", p)
	}
	for i := range 10 {
		if i != 3 && exists(filepath.Join(e.inbox, fmt.Sprintf("Patient %02d/before/IMG_%d.jpg", i, i))) {
			t.Errorf("patient %d: still in the inbox", i)
		}
	}
	e.verify(t)

	// The next run meets the same walls and says so again: the committed
	// source is not just "already" ingested.
	sum, err = e.run(t, Options{})
	if err != nil || sum.Already != 1 || sum.Unremoved != 1 || sum.Stuck != 2 {
		t.Fatalf("second run: %+v, %v", sum, err)
	}
}

// TestWatchUnreadableFolder: veil watch walks with the same walker. A
// patient folder it cannot read is reported as stuck in the pass, its
// siblings are taken, and the totals count it.
func TestWatchUnreadableFolder(t *testing.T) {
	if asNobody(t) {
		return
	}
	e := newEnv(t)
	drop(t, e, "A/before", 1)
	drop(t, e, "B/before", 1)
	drop(t, e, "C/before", 1)
	locked := filepath.Join(e.inbox, "B")
	os.Chmod(locked, 0)
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	w := startWatch(t, e, WatchOptions{})
	w.ready()
	if w.count(Ingested) != 2 || w.count(Stuck) != 1 || w.count(Left) != 0 {
		t.Fatalf("first pass: %d ingested, %d stuck, %d left; want 2, 1, 0 (%+v)", w.count(Ingested), w.count(Stuck), w.count(Left), w.seen)
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	if w.total.Ingested != 2 || w.total.Stuck != 1 || w.total.LeftBehind() != 1 {
		t.Errorf("totals %+v", w.total)
	}
}
