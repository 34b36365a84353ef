package ui

import (
	"fmt"
	"path/filepath"

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

// File prints one event of a run. Text shows only what needs a look:
// quarantined, left, unremoved and stuck files, and warnings about ingested
// ones. Only a terminal sees inbox paths (see redact.go).
func (p *Printer) File(ev ingest.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Progress != nil {
		p.Progress.Add(ev)
	}
	if p.JSON {
		if p.Timed && (ev.Kind == ingest.Skipped || ev.Kind == ingest.Excluded) {
			return // every pass of watch meets the same .DS_Store again
		}
		p.object(p.fileObject(ev), "")
		return
	}
	if !p.Paths {
		if text := p.logLine(ev); text != "" {
			p.line(p.Stderr, "veil: "+text)
		}
		p.verboseLine(ev)
		return
	}
	path := EscapeName(ev.Path)
	switch ev.Kind {
	case ingest.Quarantined:
		where := "moved to " + EscapeName(filepath.Join(inboxOf(p.Inboxes, ev.Path), inbox.QuarantineDir))
		if ev.DryRun {
			where = "would be quarantined"
		}
		p.line(p.Stderr, "veil: "+OneLine(fmt.Sprintf("%s: %s (%s)", path, EscapeControls(ev.Message), where)))
	case ingest.Left, ingest.Unremoved, ingest.Stuck:
		p.line(p.Stderr, "veil: "+OneLine(fmt.Sprintf("%s: %s", path, EscapeControls(ev.Message))))
	case ingest.IndexTampered:
		p.line(p.Stderr, "veil: "+OneLine(EscapeControls(ev.Message)))
	case ingest.Ingested:
		if ev.Message != "" {
			p.line(p.Stderr, "veil: warning: "+OneLine(EscapeControls(ev.Message)))
		}
	}
	p.verboseLine(ev)
}

// verboseLine prints, with -v, the events that text leaves out otherwise:
// committed files by their codes only, skipped files by their inbox only.
func (p *Printer) verboseLine(ev ingest.Event) {
	if !p.Verbose {
		return
	}
	switch ev.Kind {
	case ingest.Ingested:
		p.line(p.Stdout, fmt.Sprintf("ingested photo %s subject %s (%s, %s, %dx%d)", ev.Photo, ev.Subject, ev.Phase, ev.Format, ev.Width, ev.Height))
	case ingest.Duplicate:
		p.line(p.Stdout, fmt.Sprintf("duplicate of photo %s", ev.Photo))
	case ingest.Already:
		p.line(p.Stdout, fmt.Sprintf("already ingested as photo %s", ev.Photo))
	case ingest.Skipped:
		p.line(p.Stdout, fmt.Sprintf("skipped a file in %s (%s)", EscapeName(inboxOf(p.Inboxes, ev.Path)), LeftCategory(ev.Message)))
	}
}

// fileObject is the JSON object of an event: files that are not committed
// are named by their inbox folder, ticket and reason, never their path.
func (p *Printer) fileObject(ev ingest.Event) ingestEvent {
	out := ingestEvent{Event: string(ev.Kind), DryRun: ev.DryRun, Photo: ev.Photo, Subject: ev.Subject,
		Phase: ev.Phase, Format: ev.Format, Width: ev.Width, Height: ev.Height, Bytes: ev.Bytes, Reason: ev.Reason, Message: ev.Message}
	switch ev.Kind {
	case ingest.Duplicate, ingest.Already:
		out.Photo, out.Of = "", ev.Photo
	case ingest.Quarantined, ingest.Left, ingest.Skipped, ingest.Excluded, ingest.Unremoved, ingest.Stuck:
		out.Inbox, out.Ticket, out.Message = inboxOf(p.Inboxes, ev.Path), ev.Ticket, ""
		if ev.Kind != ingest.Quarantined {
			out.Reason = LeftCategory(ev.Message)
		}
	}
	return out
}

// logLine is the text line of an event for a log, without any inbox path;
// "" for an event a log need not carry.
func (p *Printer) logLine(ev ingest.Event) string {
	in := EscapeName(inboxOf(p.Inboxes, ev.Path))
	switch ev.Kind {
	case ingest.Quarantined:
		if ev.DryRun {
			return fmt.Sprintf("a file in %s would be quarantined (%s)", in, ev.Reason)
		}
		return fmt.Sprintf("quarantined a file (%s), ticket %s: its reason file in %s says which and why",
			ev.Reason, ev.Ticket, EscapeName(filepath.Join(inboxOf(p.Inboxes, ev.Path), inbox.QuarantineDir)))
	case ingest.Left:
		return fmt.Sprintf("a file in %s was left there (%s); run veil on a terminal to see which", in, LeftCategory(ev.Message))
	case ingest.Unremoved:
		return fmt.Sprintf("a committed file in %s could not be removed and is still there (%s); run veil on a terminal to see which", in, LeftCategory(ev.Message))
	case ingest.Stuck:
		return fmt.Sprintf("a file or folder in %s could not be read or quarantined and is still there (%s); run veil on a terminal to see which", in, LeftCategory(ev.Message))
	case ingest.IndexTampered:
		return OneLine(EscapeControls(ev.Message))
	case ingest.Ingested:
		if ev.Message != "" {
			return "warning: " + OneLine(EscapeControls(ev.Message))
		}
	}
	return ""
}
