package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/vault"
)

// WatchOptions are the flags of veil watch: those of ingest, and how often
// the whole inbox is scanned again.
type WatchOptions struct {
	IngestOptions
	Rescan time.Duration
}

func newWatchCommand() *cobra.Command {
	var opts WatchOptions
	c := &cobra.Command{
		Use:   "watch --vault DIR --out RELEASE [flags] INBOX...",
		Short: "Ingest photos as they arrive in inbox folders, until stopped",
		Long: `watch does what 'veil ingest' does, continuously: it watches the inbox folders
(and every folder created or moved into them) and makes a pass over them a
--settle time after files arrive, so that a photo dropped into the inbox is
in the release folder within seconds. It also makes a pass when it starts,
taking whatever arrived while it was stopped, and every --rescan, because
file system events are lost when too many arrive at once and on network
shares.

A file is taken only once its size and modification time have not changed
for --settle; hidden files and the temporary names of copies in progress
(.part, .crdownload, .tmp, ~$...) are never touched. Each pass uses the
engine and commit order of 'veil ingest'.

Each pass holds the vault lock and releases it when done, so that a nightly
'veil ingest' on the same vault can run between passes. If another writer
holds the lock when a pass is due, watch says who and waits for it.

SIGINT or SIGTERM stops watch: the files in hand are finished and committed,
the checkpoint signed, and watch exits 0. Quarantined files are reported as
they happen and do not change the exit status.

Log lines carry a timestamp; --json prints the events of 'veil ingest --json',
each with a "time", plus "waiting", "ready" and "stopped" events.

` + ingest.LayoutHelp,
		Example: `  veil watch --vault /srv/veil/vault --out /srv/release /srv/inbox
  veil watch --vault /srv/veil/vault --out /srv/release --settle 5s --rescan 5m /srv/inbox`,
		Args: argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			usage := func(format string, a ...any) error {
				return usageError{err: fmt.Errorf("watch: "+format, a...), cmd: c.CommandPath()}
			}
			if err := checkPipelineOptions(opts.IngestOptions, usage); err != nil {
				return err
			}
			if opts.Rescan < time.Second {
				return usage("--rescan must be at least 1s")
			}
			return runWatch(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	addPipelineFlags(f, &opts.IngestOptions, "passes")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per event, each with its time")
	f.BoolVar(&opts.Quiet, "quiet", false, "print only problems, and a summary when stopped")
	f.DurationVar(&opts.Rescan, "rescan", 60*time.Second, "scan the whole inbox this often, for events the file system did not deliver")
	return c
}

// watchLog prints watch's lines, from the pass and the watching goroutine.
type watchLog struct {
	mu             sync.Mutex
	json, quiet    bool
	stdout, stderr io.Writer
	inboxes        []string
}

func (l *watchLog) stamp() string { return time.Now().Format("2006-01-02 15:04:05") }

// encode prints v, an ingestEvent or ingestSummary, as one JSON line that
// starts with its time (and, for a "waiting" event, the lock's holder).
func (l *watchLog) encode(v any, holder string) {
	b, _ := json.Marshal(v)
	head := fmt.Sprintf(`{"time":%q`, time.Now().UTC().Format(time.RFC3339Nano))
	if holder != "" {
		h, _ := json.Marshal(holder)
		head += `,"holder":` + string(h)
	}
	l.stdout.Write(append(append([]byte(head+","), b[1:]...), '\n'))
}

// info prints a line about watch itself (not a problem).
func (l *watchLog) info(event, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		l.encode(ingestEvent{Event: event, Message: text}, "")
		return
	}
	if !l.quiet {
		fmt.Fprintf(l.stdout, "%s veil: %s\n", l.stamp(), oneLine(text))
	}
}

// problem prints a line that someone should act on.
func (l *watchLog) problem(event, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		l.encode(ingestEvent{Event: event, Message: text}, "")
		return
	}
	fmt.Fprintf(l.stderr, "%s veil: %s\n", l.stamp(), oneLine(text))
}

func (l *watchLog) waiting(holder vault.LockInfo, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := fmt.Sprintf("waiting for the vault lock: %v; photos stay in the inbox until it is released", err)
	if l.json {
		l.encode(ingestEvent{Event: "waiting", Message: msg}, holder.Command)
		return
	}
	fmt.Fprintf(l.stderr, "%s veil: %s\n", l.stamp(), oneLine(msg))
}

// event prints one event of a pass, as veil ingest does.
func (l *watchLog) event(ev ingest.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		if ev.Kind == ingest.Skipped {
			return // every pass meets the same .DS_Store again
		}
		out := ingestEvent{Event: string(ev.Kind), Path: ev.Path, Photo: ev.Photo, Subject: ev.Subject,
			Phase: ev.Phase, Format: ev.Format, Width: ev.Width, Height: ev.Height, Bytes: ev.Bytes, Reason: ev.Reason, Message: ev.Message}
		if ev.Kind == ingest.Duplicate || ev.Kind == ingest.Already {
			out.Photo, out.Of = "", ev.Photo
		}
		l.encode(out, "")
		return
	}
	switch ev.Kind {
	case ingest.Quarantined:
		where := "moved to " + filepath.Join(quarantineRoot(l.inboxes, ev.Path), inbox.QuarantineDir)
		fmt.Fprintf(l.stderr, "%s veil: %s\n", l.stamp(), oneLine(fmt.Sprintf("%s: %s (%s)", ev.Path, ev.Message, where)))
	case ingest.Left:
		fmt.Fprintf(l.stderr, "%s veil: %s\n", l.stamp(), oneLine(fmt.Sprintf("%s: %s", ev.Path, ev.Message)))
	case ingest.Ingested:
		if ev.Message != "" {
			fmt.Fprintf(l.stderr, "%s veil: warning: %s\n", l.stamp(), oneLine(ev.Message))
		}
	}
}

// summary prints what a pass did (event "summary"), or what watch did since
// it started (event "stopped").
func (l *watchLog) summary(event string, s ingest.Summary, runErr error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.json {
		out := ingestSummary{Event: event, Ingested: s.Ingested, Duplicates: s.Duplicates,
			Already: s.Already, Quarantined: s.Quarantined, Skipped: s.Skipped, Left: s.Left,
			Cleaned: s.Cleaned, Bytes: s.Bytes, Seconds: s.Duration.Seconds()}
		if runErr != nil {
			out.Error = oneLine(runErr.Error())
		}
		l.encode(out, "")
		return
	}
	if l.quiet && event != "stopped" {
		return
	}
	line := summaryLine(false, s)
	if event == "stopped" {
		line = "stopped; since start: " + line
	}
	fmt.Fprintf(l.stdout, "%s %s\n", l.stamp(), line)
}

// watcher runs veil watch: it turns file system events into passes.
type watcher struct {
	opts    WatchOptions
	popts   ingest.Options
	v       *vault.Vault
	inboxes []string
	log     *watchLog
	fs      *fsnotify.Watcher
	avoid   []os.FileInfo   // the release folder and the vault, if inside an inbox
	dirs    map[string]bool // folders watched
	limit   bool            // a folder could not be watched (reported once)
	total   ingest.Summary
}

func runWatch(ctx context.Context, opts WatchOptions, inboxes []string, stdout, stderr io.Writer) error {
	v, maxSize, layout, err := openPipeline(opts.IngestOptions, inboxes)
	if err != nil {
		return err
	}
	// Created now, not by the first pass, so that it can be recognised
	// and left unwatched should it lie inside an inbox.
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("release folder %s: %v", opts.Out, pathError(err))
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: cannot watch the inbox: %w", err)
	}
	defer fsw.Close()
	w := &watcher{
		opts: opts, v: v, inboxes: inboxes, fs: fsw, dirs: map[string]bool{},
		popts: ingest.Options{Release: opts.Out, Layout: layout, Workers: opts.Workers, KeepSource: opts.KeepSource,
			Settle: opts.Settle, MaxSize: maxSize},
		log: &watchLog{json: opts.JSON, quiet: opts.Quiet, stdout: stdout, stderr: stderr, inboxes: inboxes},
	}
	for _, d := range []string{opts.Out, opts.Vault} {
		if fi, err := os.Stat(d); err == nil {
			w.avoid = append(w.avoid, fi)
		}
	}
	// Watch first, then pass: what arrives during the first pass is seen.
	for _, in := range inboxes {
		w.addTree(in)
	}
	w.log.info("watching", fmt.Sprintf("watching %s (settle %v, rescan %v)", strings.Join(inboxes, ", "), opts.Settle, opts.Rescan))
	err = w.loop(ctx)
	w.log.summary("stopped", w.total, err)
	return err
}

// addTree watches dir and every folder below it that a pass would walk.
func (w *watcher) addTree(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if (path != dir || !w.isInbox(path)) && w.skipDir(d) {
			return fs.SkipDir
		}
		if w.dirs[path] {
			return nil
		}
		if err := w.fs.Add(path); err != nil {
			if !w.limit {
				w.limit = true
				w.log.problem("warning", fmt.Sprintf("warning: cannot watch %s: %v; photos there are taken at the next --rescan (raise fs.inotify.max_user_watches if there are many folders)", path, err))
			}
			return nil
		}
		w.dirs[path] = true
		return nil
	})
}

func (w *watcher) isInbox(path string) bool {
	for _, in := range w.inboxes {
		if filepath.Clean(in) == filepath.Clean(path) {
			return true
		}
	}
	return false
}

// passResult is what a pass reports back to the loop.
type passResult struct {
	sum ingest.Summary
	err error
}

// loop schedules passes: at start, a --settle after files arrive (or
// change), every --rescan, and again after a pass that left files in the
// inbox. It returns when ctx is done and the pass in hand has finished.
func (w *watcher) loop(ctx context.Context) error {
	settle := w.opts.Settle
	// A steady stream of arrivals must not postpone the pass for ever.
	maxDelay := settle + max(settle, time.Second)
	retryMin := max(settle, time.Second)
	retry := retryMin

	timer := time.NewTimer(0) // the first pass: what arrived while stopped
	defer timer.Stop()
	due := time.Now()
	var first time.Time // first event not yet covered by a started pass
	rescan := time.NewTicker(w.opts.Rescan)
	defer rescan.Stop()

	schedule := func(at time.Time) {
		if !due.IsZero() && !at.Before(due) {
			return
		}
		due = at
		timer.Reset(max(time.Until(at), 0))
	}
	arrived := func() {
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		// Debounce: a settle time after the last arrival, so that a copy
		// in progress is looked at once it has settled; but no later than
		// maxDelay after the first, so that a steady stream is taken too.
		due = now.Add(settle)
		if bound := first.Add(maxDelay); due.After(bound) {
			due = bound
		}
		timer.Reset(max(time.Until(due), 0))
	}

	running := false
	ready := false
	done := make(chan passResult, 1)
	events, errs := w.fs.Events, w.fs.Errors
	for {
		select {
		case <-ctx.Done():
			if running {
				r := <-done
				w.report(r)
				if r.err != nil && !errors.Is(r.err, context.Canceled) {
					return r.err
				}
			}
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil // closed: the rescans carry on alone
			} else if w.relevant(ev) {
				arrived()
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
			} else {
				// Overflow: events were lost; scan everything now.
				w.log.problem("warning", fmt.Sprintf("warning: file system events lost (%v); scanning the whole inbox", err))
				schedule(time.Now())
			}
		case <-rescan.C:
			for _, in := range w.inboxes {
				w.addTree(in)
			}
			schedule(time.Now())
		case <-timer.C:
			if running || due.IsZero() {
				continue
			}
			if time.Now().Before(due) { // a stale tick from before a Reset
				timer.Reset(time.Until(due))
				continue
			}
			due, first, running = time.Time{}, time.Time{}, true
			go func(first bool) { done <- w.pass(ctx, first) }(!ready)
		case r := <-done:
			running = false
			w.report(r)
			if r.err != nil {
				if ctx.Err() != nil && errors.Is(r.err, context.Canceled) {
					return nil
				}
				return r.err
			}
			if !ready {
				ready = true
				w.log.info("ready", "the inbox is caught up; watching for new photos")
			}
			if r.sum.Left > 0 {
				// Files still being written, or changed while read: their
				// own events bring a pass, but not on a network share.
				schedule(time.Now().Add(retry))
				retry = min(2*retry, w.opts.Rescan)
			} else {
				retry = retryMin
			}
			if !due.IsZero() {
				timer.Reset(max(time.Until(due), 0))
			}
		}
	}
}

// relevant reports whether an event may bring a file to take, and watches
// folders created or moved into the inbox.
func (w *watcher) relevant(ev fsnotify.Event) bool {
	name := filepath.Base(ev.Name)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if w.dirs[ev.Name] {
			delete(w.dirs, ev.Name)
			w.fs.Remove(ev.Name)
		}
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if strings.HasPrefix(name, ".") {
				return false
			}
			w.addTree(ev.Name)
			return true
		}
	}
	// Removals are the passes' own work; they bring nothing new.
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Chmod) {
		return false
	}
	return !inbox.SkipFile(name)
}

func (w *watcher) report(r passResult) {
	w.total.Ingested += r.sum.Ingested
	w.total.Duplicates += r.sum.Duplicates
	w.total.Already += r.sum.Already
	w.total.Quarantined += r.sum.Quarantined
	w.total.Left += r.sum.Left
	w.total.Cleaned += r.sum.Cleaned
	w.total.Bytes += r.sum.Bytes
	w.total.Duration += r.sum.Duration
	s := r.sum
	// Already is left out: with --keep-source, every pass meets them again.
	if s.Ingested+s.Duplicates+s.Quarantined+s.Left > 0 || (r.err != nil && !errors.Is(r.err, context.Canceled)) {
		w.log.summary("summary", s, nil)
	}
}

// pass takes the vault lock, makes one pass of the ingest engine over the
// inboxes and releases the lock, so that a nightly veil ingest can run
// between passes. A pass over an inbox with nothing in it is skipped, except
// the first: it cleans up after an interrupted run.
func (w *watcher) pass(ctx context.Context, first bool) passResult {
	if !first && !w.inboxHasFiles() {
		return passResult{}
	}
	lock, err := vault.AcquireLock(ctx, w.opts.Vault, "veil watch", 0)
	var le *vault.LockedError
	if errors.As(err, &le) {
		w.log.waiting(le.Holder, err)
		// Wait as long as it takes: the nightly run can be long.
		lock, err = vault.AcquireLock(ctx, w.opts.Vault, "veil watch", 100*365*24*time.Hour)
		if err == nil {
			w.log.info("resumed", "the vault lock is free again; resuming")
		}
	}
	if err != nil {
		return passResult{err: err}
	}
	defer lock.Release()
	if s := lock.Stale(); s != nil {
		w.log.problem("warning", fmt.Sprintf("warning: the previous writer %v did not finish; cleaning up after it", s))
	}
	// A new Pipeline each pass: the lock is released between passes, and
	// another writer (the nightly ingest, a custodian's reveal) may have
	// appended in between. Creating one is cheap: it reads only what its
	// lookup table does not cover yet (0.07 s on a vault of 101,000 photos).
	p, err := ingest.New(w.v, lock, w.popts)
	if err != nil {
		return passResult{err: err}
	}
	if n := len(p.Cleaned()); n > 0 {
		w.log.problem("warning", fmt.Sprintf("removed %d leftovers of an interrupted run (unlogged blobs or released files, temporary files)", n))
	}
	sum, err := p.Run(ctx, w.inboxes, w.log.event)
	if cerr := p.Close(); err == nil {
		err = cerr
	}
	return passResult{sum: sum, err: err}
}

// inboxHasFiles reports whether a pass could find anything to take: a file
// that is not hidden nor a copy in progress, in a folder a pass walks. A
// rescan of an empty inbox then costs a listing, not a pass.
func (w *watcher) inboxHasFiles() bool {
	found := false
	for _, in := range w.inboxes {
		filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				found = found || path != in // unreadable: let the pass report it
				return nil
			case path == in:
				return nil
			case d.IsDir():
				if w.skipDir(d) {
					return fs.SkipDir
				}
				return nil
			case !inbox.SkipFile(d.Name()):
				found = true
				return fs.SkipAll
			}
			return nil
		})
		if found {
			return true
		}
	}
	return false
}

// skipDir reports whether a pass skips a folder below an inbox: hidden ones
// (.quarantine), and the release folder or vault if they are inside it.
func (w *watcher) skipDir(d fs.DirEntry) bool {
	if strings.HasPrefix(d.Name(), ".") {
		return true
	}
	if fi, err := d.Info(); err == nil {
		for _, a := range w.avoid {
			if os.SameFile(fi, a) {
				return true
			}
		}
	}
	return false
}
