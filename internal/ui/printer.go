package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/veil-photo/veil/ingest"
)

// Printer prints the events and summaries of veil ingest and veil watch,
// as lines of text ("veil: ..." for problems) or one JSON object per line.
// watch's lines and objects carry their time; ingest's do not.
type Printer struct {
	JSON, Quiet    bool
	Verbose        bool // text: a line for every event, not only problems
	Paths          bool // text on a terminal: inbox paths may be shown
	Timed          bool // watch: lines start with the local time, objects with "time"
	Stdout, Stderr io.Writer
	Inboxes        []string
	Progress       *IngestProgress // ingest's progress line, or nil

	mu     sync.Mutex
	events *EventLog // --json's writer, made on first use
}

// line prints text on w, clearing ingest's progress line first. A line
// for a log (w is not a terminal) starts with its RFC 3339 time; watch's
// lines on a terminal with the local time.
func (p *Printer) line(w io.Writer, text string) {
	if !IsTerminal(w) {
		text = time.Now().Format(time.RFC3339) + " " + text
	} else if p.Timed {
		text = time.Now().Format("2006-01-02 15:04:05") + " " + text
	}
	if p.Progress != nil {
		p.Progress.Println(w, text)
		return
	}
	fmt.Fprintln(w, text)
}

// object prints v as one JSON event; a "waiting" event also names the
// lock's holder.
func (p *Printer) object(v any, holder string) {
	if p.events == nil {
		p.events = NewEventLog(p.Stdout, "")
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

// Info prints a line about the command itself, not a problem.
func (p *Printer) Info(event, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.object(ingestEvent{Event: event, Message: text}, "")
	} else if !p.Quiet {
		p.line(p.Stdout, "veil: "+OneLine(text))
	}
}

// Problem prints a line that someone should act on.
func (p *Printer) Problem(event, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.object(ingestEvent{Event: event, Message: text}, "")
	} else {
		p.line(p.Stderr, "veil: "+OneLine(text))
	}
}

// Waiting says who holds the vault lock that a run waits for.
func (p *Printer) Waiting(holder, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.JSON {
		p.object(ingestEvent{Event: "waiting", Message: text}, holder)
	} else {
		p.line(p.Stderr, "veil: "+OneLine(text))
	}
}

// Summary prints what a run did: event "summary" for a run or a pass of
// watch, "stopped" for all of watch since it started.
func (p *Printer) Summary(event string, dry bool, s ingest.Summary, runErr error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.JSON {
		out := ingestSummary{Event: event, DryRun: dry, Ingested: s.Ingested, Duplicates: s.Duplicates,
			Already: s.Already, Quarantined: s.Quarantined, Skipped: s.Skipped, Excluded: s.Excluded, Left: s.Left,
			Unremoved: s.Unremoved, Stuck: s.Stuck,
			Cleaned: s.Cleaned, Bytes: s.Bytes, Seconds: s.Duration.Seconds()}
		if runErr != nil {
			out.Error = OneLine(LogSafe(WithInboxes(runErr, p.Inboxes), false))
		}
		p.object(out, "")
		return
	}
	if p.Quiet {
		return
	}
	line := summaryLine(dry, s)
	if event == "stopped" {
		line = "stopped; since start: " + line
	}
	p.line(p.Stdout, line)
}

// summaryLine is the text summary of a run.
func summaryLine(dry bool, s ingest.Summary) string {
	var b strings.Builder
	if dry {
		b.WriteString("dry run, nothing changed: would have ")
	}
	fmt.Fprintf(&b, "ingested %d, duplicates %d, quarantined %d, %s, %.1f s", s.Ingested, s.Duplicates, s.Quarantined, HumanBytes(s.Bytes), s.Duration.Seconds())
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
