package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
)

// ingestEvent is what --json prints for an event.
type ingestEvent struct {
	Event   string `json:"event"`
	DryRun  bool   `json:"dry_run,omitempty"`
	Path    string `json:"path,omitempty"`
	Photo   string `json:"photo,omitempty"`
	Subject string `json:"subject,omitempty"`
	Of      string `json:"of,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Format  string `json:"format,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Inbox   string `json:"inbox,omitempty"`
	Ticket  string `json:"ticket,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ingestSummary is what --json prints for a summary.
type ingestSummary struct {
	Event       string  `json:"event"`
	DryRun      bool    `json:"dry_run,omitempty"`
	Ingested    int     `json:"ingested"`
	Duplicates  int     `json:"duplicates"`
	Already     int     `json:"already"`
	Quarantined int     `json:"quarantined"`
	Skipped     int     `json:"skipped"`
	Excluded    int     `json:"excluded"`
	Left        int     `json:"left"`
	Unremoved   int     `json:"unremoved"`
	Stuck       int     `json:"stuck"`
	Cleaned     int     `json:"cleaned"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	Error       string  `json:"error,omitempty"`
}

// printer prints the events and summaries of veil ingest and veil watch,
// as lines of text ("veil: ..." for problems) or one JSON object per line.
// watch's lines and objects carry their time; ingest's do not.
type printer struct {
	mu             sync.Mutex
	json, quiet    bool
	verbose        bool // text: a line for every event, not only problems
	paths          bool // text on a terminal: inbox paths may be shown
	timed          bool // watch: lines start with the local time, objects with "time"
	stdout, stderr io.Writer
	inboxes        []string
	prog           *ingestProgress // ingest's progress line, or nil
	events         *eventLog       // --json's writer, made on first use
}

// line prints text on w, clearing ingest's progress line first. A line
// for a log (w is not a terminal) starts with its RFC 3339 time; watch's
// lines on a terminal with the local time.
func (p *printer) line(w io.Writer, text string) {
	if !isTerminal(w) {
		text = time.Now().Format(time.RFC3339) + " " + text
	} else if p.timed {
		text = time.Now().Format("2006-01-02 15:04:05") + " " + text
	}
	if p.prog != nil {
		p.prog.println(w, text)
		return
	}
	fmt.Fprintln(w, text)
}

// object prints v as one JSON event; a "waiting" event also names the
// lock's holder.
func (p *printer) object(v any, holder string) {
	if p.events == nil {
		p.events = newEventLog(p.stdout, "")
	}
	if holder != "" {
		m := map[string]any{}
		b, _ := json.Marshal(v)
		json.Unmarshal(b, &m)
		m["holder"] = holder
		v = m
	}
	p.events.Encode(v)
}

// info prints a line about the command itself, not a problem.
func (p *printer) info(event, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.object(ingestEvent{Event: event, Message: text}, "")
	} else if !p.quiet {
		p.line(p.stdout, "veil: "+oneLine(text))
	}
}

// problem prints a line that someone should act on.
func (p *printer) problem(event, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.object(ingestEvent{Event: event, Message: text}, "")
	} else {
		p.line(p.stderr, "veil: "+oneLine(text))
	}
}

// waiting says who holds the vault lock that a run waits for.
func (p *printer) waiting(holder, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.object(ingestEvent{Event: "waiting", Message: text}, holder)
	} else {
		p.line(p.stderr, "veil: "+oneLine(text))
	}
}

// file prints one event of a run. Text shows only what needs a look:
// quarantined, left, unremoved and stuck files, and warnings about ingested
// ones. Only a terminal sees inbox paths (see redact.go).
func (p *printer) file(ev ingest.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prog != nil {
		p.prog.add(ev)
	}
	if p.json {
		if p.timed && (ev.Kind == ingest.Skipped || ev.Kind == ingest.Excluded) {
			return // every pass of watch meets the same .DS_Store again
		}
		p.object(p.fileObject(ev), "")
		return
	}
	if !p.paths {
		if text := p.logLine(ev); text != "" {
			p.line(p.stderr, "veil: "+text)
		}
		p.verboseLine(ev)
		return
	}
	path := escapeName(ev.Path)
	switch ev.Kind {
	case ingest.Quarantined:
		where := "moved to " + escapeName(filepath.Join(inboxOf(p.inboxes, ev.Path), inbox.QuarantineDir))
		if ev.DryRun {
			where = "would be quarantined"
		}
		p.line(p.stderr, "veil: "+oneLine(fmt.Sprintf("%s: %s (%s)", path, escapeControls(ev.Message), where)))
	case ingest.Left, ingest.Unremoved, ingest.Stuck:
		p.line(p.stderr, "veil: "+oneLine(fmt.Sprintf("%s: %s", path, escapeControls(ev.Message))))
	case ingest.IndexTampered:
		p.line(p.stderr, "veil: "+oneLine(escapeControls(ev.Message)))
	case ingest.Ingested:
		if ev.Message != "" {
			p.line(p.stderr, "veil: warning: "+oneLine(escapeControls(ev.Message)))
		}
	}
	p.verboseLine(ev)
}

// verboseLine prints, with -v, the events that text leaves out otherwise:
// committed files by their codes only, skipped files by their inbox only.
func (p *printer) verboseLine(ev ingest.Event) {
	if !p.verbose {
		return
	}
	switch ev.Kind {
	case ingest.Ingested:
		p.line(p.stdout, fmt.Sprintf("ingested photo %s subject %s (%s, %s, %dx%d)", ev.Photo, ev.Subject, ev.Phase, ev.Format, ev.Width, ev.Height))
	case ingest.Duplicate:
		p.line(p.stdout, fmt.Sprintf("duplicate of photo %s", ev.Photo))
	case ingest.Already:
		p.line(p.stdout, fmt.Sprintf("already ingested as photo %s", ev.Photo))
	case ingest.Skipped:
		p.line(p.stdout, fmt.Sprintf("skipped a file in %s (%s)", escapeName(inboxOf(p.inboxes, ev.Path)), leftCategory(ev.Message)))
	}
}

// fileObject is the JSON object of an event: files that are not committed
// are named by their inbox folder, ticket and reason, never their path.
func (p *printer) fileObject(ev ingest.Event) ingestEvent {
	out := ingestEvent{Event: string(ev.Kind), DryRun: ev.DryRun, Photo: ev.Photo, Subject: ev.Subject,
		Phase: ev.Phase, Format: ev.Format, Width: ev.Width, Height: ev.Height, Bytes: ev.Bytes, Reason: ev.Reason, Message: ev.Message}
	switch ev.Kind {
	case ingest.Duplicate, ingest.Already:
		out.Photo, out.Of = "", ev.Photo
	case ingest.Quarantined, ingest.Left, ingest.Skipped, ingest.Excluded, ingest.Unremoved, ingest.Stuck:
		out.Inbox, out.Ticket, out.Message = inboxOf(p.inboxes, ev.Path), ev.Ticket, ""
		if ev.Kind != ingest.Quarantined {
			out.Reason = leftCategory(ev.Message)
		}
	}
	return out
}

// logLine is the text line of an event for a log, without any inbox path;
// "" for an event a log need not carry.
func (p *printer) logLine(ev ingest.Event) string {
	in := escapeName(inboxOf(p.inboxes, ev.Path))
	switch ev.Kind {
	case ingest.Quarantined:
		if ev.DryRun {
			return fmt.Sprintf("a file in %s would be quarantined (%s)", in, ev.Reason)
		}
		return fmt.Sprintf("quarantined a file (%s), ticket %s: its reason file in %s says which and why",
			ev.Reason, ev.Ticket, escapeName(filepath.Join(inboxOf(p.inboxes, ev.Path), inbox.QuarantineDir)))
	case ingest.Left:
		return fmt.Sprintf("a file in %s was left there (%s); run veil on a terminal to see which", in, leftCategory(ev.Message))
	case ingest.Unremoved:
		return fmt.Sprintf("a committed file in %s could not be removed and is still there (%s); run veil on a terminal to see which", in, leftCategory(ev.Message))
	case ingest.Stuck:
		return fmt.Sprintf("a file or folder in %s could not be read or quarantined and is still there (%s); run veil on a terminal to see which", in, leftCategory(ev.Message))
	case ingest.IndexTampered:
		return oneLine(escapeControls(ev.Message))
	case ingest.Ingested:
		if ev.Message != "" {
			return "warning: " + oneLine(escapeControls(ev.Message))
		}
	}
	return ""
}

// summary prints what a run did: event "summary" for a run or a pass of
// watch, "stopped" for all of watch since it started.
func (p *printer) summary(event string, dry bool, s ingest.Summary, runErr error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		out := ingestSummary{Event: event, DryRun: dry, Ingested: s.Ingested, Duplicates: s.Duplicates,
			Already: s.Already, Quarantined: s.Quarantined, Skipped: s.Skipped, Excluded: s.Excluded, Left: s.Left,
			Unremoved: s.Unremoved, Stuck: s.Stuck,
			Cleaned: s.Cleaned, Bytes: s.Bytes, Seconds: s.Duration.Seconds()}
		if runErr != nil {
			out.Error = oneLine(logSafe(withInboxes(runErr, p.inboxes), false))
		}
		p.object(out, "")
		return
	}
	if p.quiet {
		return
	}
	line := summaryLine(dry, s)
	if event == "stopped" {
		line = "stopped; since start: " + line
	}
	p.line(p.stdout, line)
}

// watchEvent prints an event of veil watch.
func (p *printer) watchEvent(ev ingest.WatchEvent, opts WatchOptions) {
	switch ev.Kind {
	case ingest.WatchWatching:
		p.info("watching", fmt.Sprintf("watching %s (settle %v, rescan %v)", strings.Join(p.inboxes, ", "), opts.Settle, opts.Rescan))
	case ingest.WatchUnwatched:
		p.problem("warning", fmt.Sprintf("warning: cannot watch %s: %s; photos there are taken at the next --rescan (raise fs.inotify.max_user_watches if there are many folders)",
			p.pathOrInbox(ev.Path), p.errText(ev.Err)))
	case ingest.WatchLost:
		p.problem("warning", fmt.Sprintf("warning: file system events lost (%s); scanning the whole inbox", p.errText(ev.Err)))
	case ingest.WatchWaiting:
		p.waiting(ev.Holder.Command, fmt.Sprintf("waiting for the vault lock: %v; photos stay in the inbox until it is released", ev.Err))
	case ingest.WatchResumed:
		p.info("resumed", "the vault lock is free again; resuming")
	case ingest.WatchStale:
		p.problem("warning", fmt.Sprintf("warning: the previous writer %v did not finish; cleaning up after it", ev.Holder))
	case ingest.WatchCleaned:
		p.problem("warning", fmt.Sprintf("removed %d leftovers of an interrupted run (unlogged blobs or released files, temporary files)", ev.Cleaned))
	case ingest.WatchFile:
		p.file(ev.File)
	case ingest.WatchPassDone:
		s := ev.Summary
		// Already is left out: with --keep-source, every pass meets them again.
		did := s.Ingested+s.Duplicates+s.Quarantined+s.Left+s.LeftBehind() > 0 || (ev.Err != nil && !errors.Is(ev.Err, context.Canceled))
		if did && (p.json || !p.quiet) {
			p.summary("summary", false, s, nil)
		}
	case ingest.WatchReady:
		p.info("ready", "the inbox is caught up; watching for new photos")
	}
}

// pathOrInbox is an inbox path as this printer may show it: escaped on a
// terminal, its inbox folder only in a log.
func (p *printer) pathOrInbox(path string) string {
	if p.paths && !p.json {
		return escapeName(path)
	}
	return "a folder in " + escapeName(inboxOf(p.inboxes, path))
}

// errText is an error as this printer may show it.
func (p *printer) errText(err error) string {
	return logSafe(withInboxes(err, p.inboxes), p.paths && !p.json)
}

// summaryLine is the text summary of a run.
func summaryLine(dry bool, s ingest.Summary) string {
	var b strings.Builder
	if dry {
		b.WriteString("dry run, nothing changed: would have ")
	}
	fmt.Fprintf(&b, "ingested %d, duplicates %d, quarantined %d, %s, %.1f s", s.Ingested, s.Duplicates, s.Quarantined, humanBytes(s.Bytes), s.Duration.Seconds())
	if s.Already > 0 {
		fmt.Fprintf(&b, "; %d already ingested", s.Already)
	}
	if s.Left > 0 {
		fmt.Fprintf(&b, "; %d left in the inbox for the next run", s.Left)
	}
	if s.Excluded > 0 {
		fmt.Fprintf(&b, "; %d excluded (--exclude), still in the inbox", s.Excluded)
	}
	if n := s.LeftBehind(); n > 0 {
		fmt.Fprintf(&b, "; %d still in the inbox that veil could not take, quarantine or remove (see above)", n)
	}
	return b.String()
}

// inboxOf returns the inbox argument that path lies in: the operator's own
// word for it, which says nothing about a patient.
func inboxOf(inboxes []string, path string) string {
	for _, in := range inboxes {
		if rel, err := filepath.Rel(in, path); err == nil && !strings.HasPrefix(rel, "..") {
			return in
		}
	}
	return "the inbox"
}
