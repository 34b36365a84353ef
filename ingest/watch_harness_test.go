package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/veil-photo/veil/internal/testphoto"
)

// The tests of Watch drive it with a notifier and a clock of their own: an
// event is sent by hand, time moves only when a test advances it, and
// every send returns once Watch's scheduler has taken it, so that what the
// scheduler did is known without waiting for it.

// fakeNotifier is a Notifier whose events the test sends.
type fakeNotifier struct {
	mu      sync.Mutex
	watched map[string]bool
	refuse  map[string]bool // Add fails for these folders
	events  chan fsnotify.Event
	errs    chan error
}

func (n *fakeNotifier) Add(dir string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.refuse[dir] {
		return errors.New("no space left on device")
	}
	n.watched[dir] = true
	return nil
}

func (n *fakeNotifier) Remove(dir string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.watched, dir)
	return nil
}

func (n *fakeNotifier) Events() <-chan fsnotify.Event { return n.events }
func (n *fakeNotifier) Errors() <-chan error          { return n.errs }
func (n *fakeNotifier) Close() error                  { return nil }

func (n *fakeNotifier) watching(dir string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.watched[dir]
}

// fakeClock moves only when moved. Its timers' channels are unbuffered:
// fire returns once the scheduler has received every tick that fell due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock *fakeClock
	c     chan time.Time
	at    time.Time
	armed bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, c: make(chan time.Time)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Reset(d time.Duration) {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.at, t.armed = t.clock.now.Add(d), true
}

func (t *fakeTimer) Stop() {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.armed = false
}

func (c *fakeClock) move(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fire delivers the ticks of the timers that are due, earliest first, and
// returns how many.
func (c *fakeClock) fire() int {
	c.mu.Lock()
	now := c.now
	var due []*fakeTimer
	for _, t := range c.timers {
		if t.armed && !t.at.After(now) {
			t.armed = false
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.c <- now
	}
	return len(due)
}

// watchRun is one Watch running on an env with the fakes.
type watchRun struct {
	t      *testing.T
	e      *env
	n      *fakeNotifier
	clock  *fakeClock
	cancel context.CancelFunc
	events chan WatchEvent
	result chan error
	total  Summary
	err    error
	ended  bool

	mu   sync.Mutex
	seen []WatchEvent
}

const testSettle = 2 * time.Second

// startWatch starts Watch with settle 2s and a rescan every minute, unless
// opts say otherwise, and returns once its scheduler runs. The notifier
// refuses to watch the folders in refuse.
func startWatch(t *testing.T, e *env, opts WatchOptions, refuse ...string) *watchRun {
	t.Helper()
	if err := os.MkdirAll(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{t: t, e: e, cancel: cancel, events: make(chan WatchEvent, 10000), result: make(chan error, 1),
		n:     &fakeNotifier{watched: map[string]bool{}, refuse: map[string]bool{}, events: make(chan fsnotify.Event), errs: make(chan error)},
		clock: &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	for _, dir := range refuse {
		w.n.refuse[dir] = true
	}
	opts.Notifier, opts.Clock = w.n, w.clock
	opts.Pipeline.Release = e.release
	opts.Command = "veil watch (test)"
	if opts.Pipeline.Settle == 0 {
		opts.Pipeline.Settle = testSettle
	}
	if opts.Pipeline.Workers == 0 {
		opts.Pipeline.Workers = 2
	}
	go func() {
		sum, err := Watch(ctx, e.v, []string{e.inbox}, opts, func(ev WatchEvent) {
			w.mu.Lock()
			w.seen = append(w.seen, ev)
			w.mu.Unlock()
			w.events <- ev
		})
		w.total = sum
		w.result <- err
	}()
	t.Cleanup(func() {
		if !w.ended {
			w.stop()
		}
	})
	w.sync()
	return w
}

// sync returns once the scheduler has handled everything sent before: it
// sends an event the scheduler ignores, which it takes only when idle.
func (w *watchRun) sync() {
	w.n.events <- fsnotify.Event{Name: filepath.Join(w.e.inbox, ".sync"), Op: fsnotify.Chmod}
}

// advance moves the clock and returns once the scheduler has handled it.
func (w *watchRun) advance(d time.Duration) {
	w.sync() // what the scheduler was handling may set a timer
	w.clock.move(d)
	for w.clock.fire() > 0 {
		w.sync() // a tick may set a timer that is due at once
	}
	w.sync()
}

// send delivers a file system event about rel, a path in the inbox, and
// returns once the scheduler has handled it (and read the clock).
func (w *watchRun) send(op fsnotify.Op, rel string) {
	w.n.events <- fsnotify.Event{Name: filepath.Join(w.e.inbox, filepath.FromSlash(rel)), Op: op}
	w.sync()
}

// until returns the next event of kind for which cond holds (cond nil:
// any), failing the test if Watch returns first.
func (w *watchRun) until(kind WatchKind, cond func(WatchEvent) bool) WatchEvent {
	w.t.Helper()
	timeout := time.NewTimer(60 * time.Second) // a hang, not a schedule
	defer timeout.Stop()
	for {
		select {
		case ev := <-w.events:
			if ev.Kind == kind && (cond == nil || cond(ev)) {
				return ev
			}
		case err := <-w.result:
			w.ended, w.err = true, err
			w.t.Fatalf("Watch returned (%v) while the test waited for %q", err, kind)
		case <-timeout.C:
			w.t.Fatalf("no %q event", kind)
		}
	}
}

// untilPassDone waits for the end of the pass in hand, and for the
// scheduler to have handled it.
func (w *watchRun) untilPassDone() Summary {
	w.t.Helper()
	s := w.until(WatchPassDone, nil).Summary
	w.sync()
	return s
}

// passes counts the passes started so far.
func (w *watchRun) passes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.seen {
		if ev.Kind == WatchPass {
			n++
		}
	}
	return n
}

// count counts the file events of kind so far.
func (w *watchRun) count(kind EventKind) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.seen {
		if ev.Kind == WatchFile && ev.File.Kind == kind {
			n++
		}
	}
	return n
}

// stop cancels Watch and returns its error.
func (w *watchRun) stop() error {
	w.t.Helper()
	w.cancel()
	return w.wait()
}

// wait returns Watch's error once it has returned.
func (w *watchRun) wait() error {
	w.t.Helper()
	if !w.ended {
		select {
		case w.err = <-w.result:
		case <-time.After(60 * time.Second):
			w.t.Fatal("Watch did not return after its context was cancelled")
		}
		w.ended = true
	}
	return w.err
}

// ready starts the first pass and waits for its end.
func (w *watchRun) ready() {
	w.t.Helper()
	w.advance(0)
	w.until(WatchReady, nil)
	w.sync()
}

// drop puts n new photos under folder of the inbox, written long ago, so
// that the pass's own settle check takes them at once.
func drop(t *testing.T, e *env, folder string, n int) []string {
	t.Helper()
	var rels []string
	for range n {
		rel := fmt.Sprintf("%s/IMG_%04d.jpg", folder, photoSeq)
		img, err := testphoto.Noise(16+photoSeq, 16)
		if err != nil {
			t.Fatal(err)
		}
		photoSeq++
		putOld(t, e.inbox, rel, img)
		rels = append(rels, rel)
	}
	return rels
}

var photoSeq int // distinct sizes make distinct photos

// putOld writes a file whose modification time is an hour ago.
func putOld(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	put(t, dir, rel, data)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(rel)), old, old); err != nil {
		t.Fatal(err)
	}
}

func inInbox(e *env, rel string) bool { return exists(filepath.Join(e.inbox, filepath.FromSlash(rel))) }
