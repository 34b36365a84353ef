package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/veil-photo/veil/vault"
)

// The first pass takes what arrived while watch was stopped; copies in
// progress, hidden files and system litter are never taken, their events
// bring no pass, and a rescan of an inbox holding only them takes nothing.
func TestWatchFirstPassAndTempNames(t *testing.T) {
	e := newEnv(t)
	photos := drop(t, e, "Jane Doe/before", 3)
	temps := []string{"Jane Doe/before/IMG_1.jpg.part", "Jane Doe/before/IMG_2.jpg.crdownload", "Jane Doe/before/~$notes.jpg",
		"Jane Doe/before/.DS_Store", "Jane Doe/before/IMG_3.tmp", "Jane Doe/Thumbs.db"}
	for _, rel := range temps {
		putOld(t, e.inbox, rel, []byte("not yet"))
	}
	w := startWatch(t, e, WatchOptions{})
	w.ready()
	if got := w.count(Ingested); got != 3 {
		t.Fatalf("first pass ingested %d, want 3", got)
	}
	for _, rel := range photos {
		if inInbox(e, rel) {
			t.Errorf("%s still in the inbox", rel)
		}
	}
	for _, rel := range temps {
		w.send(fsnotify.Create, rel)
		w.send(fsnotify.Write, rel)
	}
	w.advance(10 * testSettle)
	if n := w.passes(); n != 1 {
		t.Fatalf("%d passes after events for temporary names, want 1", n)
	}
	w.advance(time.Minute) // the rescan: the inbox holds nothing to take
	if n := w.passes(); n != 2 {
		t.Fatalf("%d passes after a rescan, want 2", n)
	}
	if s := w.untilPassDone(); s != (Summary{}) {
		t.Errorf("a pass over temporary names did %+v", s)
	}
	for _, rel := range temps {
		if !inInbox(e, rel) {
			t.Errorf("%s was taken: it is a copy in progress, hidden or litter", rel)
		}
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	if w.total.Ingested != 3 {
		t.Errorf("total %+v, want 3 ingested", w.total)
	}
	e.verify(t)
}

// A burst of arrivals is taken in one pass, a settle time after the last.
func TestWatchDebouncesBurst(t *testing.T) {
	e := newEnv(t)
	w := startWatch(t, e, WatchOptions{})
	w.ready()
	var all []string
	for i := range 10 {
		rels := drop(t, e, fmt.Sprintf("Patient %d/before", i%3), 3)
		for _, rel := range rels {
			w.send(fsnotify.Create, rel)
			w.send(fsnotify.Write, rel)
		}
		all = append(all, rels...)
		w.advance(100 * time.Millisecond)
	}
	// The last arrival was at 0.9 s: the pass is due at 2.9 s.
	w.advance(testSettle - 200*time.Millisecond)
	if n := w.passes(); n != 1 {
		t.Fatalf("a pass before the burst settled: %d passes", n)
	}
	w.advance(100 * time.Millisecond)
	if n := w.passes(); n != 2 {
		t.Fatalf("%d passes once the burst settled, want 2", n)
	}
	if s := w.untilPassDone(); s.Ingested != 30 {
		t.Fatalf("the pass after the burst did %+v, want 30 ingested", s)
	}
	w.advance(time.Minute - 3*time.Second)
	if n := w.passes(); n != 2 {
		t.Fatalf("%d passes after the burst was taken, want 2", n)
	}
	for _, rel := range all {
		if inInbox(e, rel) {
			t.Errorf("%s still in the inbox", rel)
		}
	}
	e.verify(t)
}

// A file that keeps changing postpones the pass until it has not changed
// for the settle time, but a steady stream does not postpone it for ever:
// at most settle + max(settle, 1s) after the first event.
func TestWatchSettle(t *testing.T) {
	e := newEnv(t)
	w := startWatch(t, e, WatchOptions{})
	w.ready()
	rel := drop(t, e, "Jane Doe/before", 1)[0]
	w.send(fsnotify.Create, rel)
	w.advance(1500 * time.Millisecond)
	w.send(fsnotify.Write, rel)
	w.advance(1900 * time.Millisecond) // 3.4 s: 1.9 s after the last change
	if n := w.passes(); n != 1 {
		t.Fatalf("a pass while the file was still changing: %d passes", n)
	}
	w.advance(100 * time.Millisecond)
	if n := w.passes(); n != 2 {
		t.Fatalf("%d passes once the file settled, want 2", n)
	}
	w.untilPassDone()

	// A change every second: the pass comes 4 s after the first.
	rel = drop(t, e, "Jane Doe/before", 1)[0]
	for range 3 {
		w.send(fsnotify.Write, rel)
		w.advance(time.Second)
	}
	w.send(fsnotify.Write, rel)
	w.advance(999 * time.Millisecond)
	if n := w.passes(); n != 2 {
		t.Fatalf("a pass before the bound: %d passes", n)
	}
	w.advance(time.Millisecond)
	if n := w.passes(); n != 3 {
		t.Fatalf("a steady stream postponed the pass past settle + max(settle, 1s): %d passes", n)
	}
	if s := w.untilPassDone(); s.Ingested != 1 {
		t.Errorf("the pass did %+v", s)
	}
}

// A file the pass finds still being written is left, and looked at again
// by a pass of its own, without a file system event (network shares send
// none).
func TestWatchRetriesLeftFiles(t *testing.T) {
	e := newEnv(t)
	w := startWatch(t, e, WatchOptions{Pipeline: Options{Settle: 50 * time.Millisecond}})
	w.ready()
	rel := drop(t, e, "Jane Doe/before", 1)[0]
	future := time.Now().Add(time.Hour) // written "now" as far as the pass can tell
	os.Chtimes(filepath.Join(e.inbox, filepath.FromSlash(rel)), future, future)
	w.send(fsnotify.Create, rel)
	w.advance(time.Second) // the maximum delay for settle 50ms
	if s := w.untilPassDone(); s.Left != 1 {
		t.Fatalf("pass over a file being written did %+v, want it left", s)
	}
	putOld(t, e.inbox, rel, mustRead(t, filepath.Join(e.inbox, filepath.FromSlash(rel))))
	w.advance(999 * time.Millisecond)
	if n := w.passes(); n != 2 {
		t.Fatalf("%d passes before the retry, want 2", n)
	}
	w.advance(time.Millisecond)
	if s := w.untilPassDone(); s.Ingested != 1 {
		t.Fatalf("the retry did %+v, want 1 ingested", s)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Files whose events were lost, in folders nobody watched, are taken by the
// rescan; lost events bring a pass at once.
func TestWatchRescans(t *testing.T) {
	e := newEnv(t)
	w := startWatch(t, e, WatchOptions{Rescan: 5 * time.Minute})
	w.ready()
	rels := drop(t, e, "Jane Doe/after", 2) // no events
	w.advance(5*time.Minute - time.Second)
	if n := w.passes(); n != 1 {
		t.Fatalf("%d passes before the rescan, want 1", n)
	}
	w.advance(time.Second)
	if s := w.untilPassDone(); s.Ingested != 2 {
		t.Fatalf("the rescan did %+v, want 2 ingested", s)
	}
	if !w.n.watching(filepath.Join(e.inbox, "Jane Doe", "after")) {
		t.Error("the rescan did not watch the folder it found")
	}
	for _, rel := range rels {
		if inInbox(e, rel) {
			t.Errorf("%s still in the inbox", rel)
		}
	}

	drop(t, e, "Jane Doe/after", 1)
	w.n.errs <- fsnotify.ErrEventOverflow
	w.until(WatchLost, nil)
	w.advance(0) // the pass is due at once
	if s := w.untilPassDone(); s.Ingested != 1 {
		t.Fatalf("the pass after lost events did %+v, want 1 ingested", s)
	}
}

// A pass that finds the vault lock held says who holds it, takes nothing,
// and goes on once it is released.
func TestWatchWaitsForLock(t *testing.T) {
	e := newEnv(t)
	lock, err := vault.AcquireLock(context.Background(), e.v.Dir(), "veil ingest", 0)
	if err != nil {
		t.Fatal(err)
	}
	rels := drop(t, e, "Jane Doe/before", 3)
	w := startWatch(t, e, WatchOptions{})
	w.advance(0)
	ev := w.until(WatchWaiting, nil)
	var le *vault.LockedError
	if ev.Holder.Command != "veil ingest" || ev.Holder.PID != os.Getpid() || !errors.As(ev.Err, &le) {
		t.Errorf("waiting event does not name the holder: %+v", ev)
	}
	for _, rel := range rels {
		if !inInbox(e, rel) {
			t.Fatalf("%s taken while another writer held the vault lock", rel)
		}
	}
	lock.Release()
	w.until(WatchResumed, nil)
	w.until(WatchReady, nil)
	if got := w.count(Ingested); got != 3 {
		t.Errorf("ingested %d after the lock was released, want 3", got)
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	e.verify(t)
}

// Stopped while it waits for the vault lock, Watch returns at once, having
// taken nothing.
func TestWatchStopWhileWaiting(t *testing.T) {
	e := newEnv(t)
	lock, err := vault.AcquireLock(context.Background(), e.v.Dir(), "veil ingest", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	rels := drop(t, e, "Jane Doe/before", 3)
	w := startWatch(t, e, WatchOptions{})
	w.advance(0)
	w.until(WatchWaiting, nil)
	if err := w.stop(); err != nil {
		t.Fatalf("stopped while waiting: %v", err)
	}
	for _, rel := range rels {
		if !inInbox(e, rel) {
			t.Errorf("%s taken without the vault lock", rel)
		}
	}
	if w.total != (Summary{}) {
		t.Errorf("total %+v, want nothing", w.total)
	}
}

// Cancelled in the middle of a burst, Watch finishes the photo in hand,
// commits it, leaves the rest in the inbox, and returns nil.
func TestWatchCancelFinishesPhotoInHand(t *testing.T) {
	e := newEnv(t)
	rels := drop(t, e, "Jane Doe/before", 10)
	var once sync.Once
	var w *watchRun
	hook := func(step Step, path string) error {
		if step == StepPut {
			once.Do(func() { w.cancel() })
		}
		return nil
	}
	w = startWatch(t, e, WatchOptions{Pipeline: Options{Workers: 1, Hook: hook}})
	w.clock.fire() // the first pass; no sync: the scheduler waits for the pass once cancelled
	if err := w.wait(); err != nil {
		t.Fatalf("cancelled: %v", err)
	}
	if w.total.Ingested != 1 {
		t.Errorf("total %+v, want the photo in hand ingested", w.total)
	}
	left := 0
	for _, rel := range rels {
		if inInbox(e, rel) {
			left++
		}
	}
	if left != 9 {
		t.Errorf("%d photos left in the inbox, want 9", left)
	}
	e.verify(t)
}

// A folder moved into the inbox is watched, with the folders inside it,
// and its photos taken; moved out, it is no longer watched. Hidden folders
// and the release folder are never watched.
func TestWatchFolderMovedIn(t *testing.T) {
	e := newEnv(t)
	e.release = filepath.Join(e.inbox, "RELEASE")
	os.MkdirAll(e.release, 0o755)
	w := startWatch(t, e, WatchOptions{})
	w.ready()
	if w.n.watching(e.release) {
		t.Error("the release folder inside the inbox is watched")
	}

	staging := filepath.Join(t.TempDir(), "Ann Öz")
	card := &env{inbox: filepath.Dir(staging)}
	drop(t, card, "Ann Öz/before", 4)
	// Something veil does not take keeps the patient folder in the inbox
	// once its photos are taken; the emptied phase folder goes.
	os.WriteFile(filepath.Join(staging, ".DS_Store"), nil, 0o644)
	dir := filepath.Join(e.inbox, "Ann Öz")
	if err := os.Rename(staging, dir); err != nil {
		t.Fatal(err)
	}
	w.send(fsnotify.Create, "Ann Öz")
	if !w.n.watching(dir) || !w.n.watching(filepath.Join(dir, "before")) {
		t.Fatal("the folder moved in is not watched")
	}
	w.advance(testSettle)
	if s := w.untilPassDone(); s.Ingested != 4 {
		t.Fatalf("the pass after the folder moved in did %+v, want 4 ingested", s)
	}
	if exists(filepath.Join(dir, "before")) || !exists(dir) {
		t.Errorf("after the pass: emptied phase folder there %v, patient folder with .DS_Store there %v", exists(filepath.Join(dir, "before")), exists(dir))
	}

	os.MkdirAll(filepath.Join(e.inbox, ".hidden", "before"), 0o755)
	w.send(fsnotify.Create, ".hidden")
	if w.n.watching(filepath.Join(e.inbox, ".hidden")) {
		t.Error("a hidden folder is watched")
	}
	if err := os.Rename(dir, filepath.Join(t.TempDir(), "gone")); err != nil {
		t.Fatal(err)
	}
	w.send(fsnotify.Rename, "Ann Öz")
	if w.n.watching(dir) {
		t.Error("the folder moved out is still watched")
	}
}

// A folder that cannot be watched (the inotify limit) is reported once,
// and its photos are taken by the passes anyway.
func TestWatchUnwatchableFolder(t *testing.T) {
	e := newEnv(t)
	drop(t, e, "A/before", 1)
	drop(t, e, "B/before", 1)
	a, b := filepath.Join(e.inbox, "A"), filepath.Join(e.inbox, "B")
	w := startWatch(t, e, WatchOptions{}, a, b)
	w.ready()
	var unwatched []string
	for _, ev := range w.seen {
		if ev.Kind == WatchUnwatched {
			unwatched = append(unwatched, ev.Path)
		}
	}
	if len(unwatched) != 1 || !slices.Contains([]string{a, b}, unwatched[0]) {
		t.Errorf("unwatched folders reported: %v, want one of A and B", unwatched)
	}
	if got := w.count(Ingested); got != 2 {
		t.Errorf("ingested %d, want 2", got)
	}
}

// The first pass with a host pin that opens the vault says that it pinned
// the vault as found, as ingest does; later passes check the pin and say
// nothing of it.
func TestWatchSaysFirstPin(t *testing.T) {
	e := newEnv(t)
	pin, err := HostPinFile(t.TempDir(), e.v.Dir())
	if err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, e, WatchOptions{Rescan: time.Minute, Pipeline: Options{HostPin: pin}})
	w.ready()
	for i := range 2 {
		drop(t, e, "Jane Doe/after", 1)
		w.advance(time.Minute)
		if s := w.untilPassDone(); s.Ingested != 1 {
			t.Fatalf("pass %d did %+v, want 1 ingested", i, s)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var notes []string
	for _, ev := range w.seen {
		if ev.Kind == WatchPinned {
			notes = append(notes, ev.Note)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "first use of host pin") {
		t.Errorf("pinned events %q, want one saying it is the first use", notes)
	}
}
