package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/veil-photo/veil/ingest"
)

// QuarantineJSON is the --json form of a quarantined file.
type QuarantineJSON struct {
	Event   string    `json:"event"` // "quarantined", "retried", "not_retried"
	Inbox   string    `json:"inbox"`
	Ticket  string    `json:"ticket,omitempty"`
	Reason  string    `json:"reason"`
	Bytes   int64     `json:"bytes"`
	Since   time.Time `json:"since"`
	Path    string    `json:"path,omitempty"`    // with --paths
	From    string    `json:"from,omitempty"`    // with --paths
	Message string    `json:"message,omitempty"` // with --paths
	To      string    `json:"to,omitempty"`      // retried, with --paths
	Error   string    `json:"error,omitempty"`   // not_retried: the kind of problem, or with --paths the error
}

// QuarantinePrinter prints quarantined files for staff at a terminal, or
// for a log without paths.
type QuarantinePrinter struct {
	w       io.Writer
	json    bool
	paths   bool           // paths and explanations may be shown
	reasons map[string]int // files listed, by reason
	total   int
}

// NewQuarantinePrinter returns a QuarantinePrinter writing to w. Paths are
// shown on a terminal, or anywhere with showPaths (--paths).
func NewQuarantinePrinter(w io.Writer, jsonOut, showPaths bool) *QuarantinePrinter {
	return &QuarantinePrinter{w: w, json: jsonOut, paths: showPaths || !jsonOut && IsTerminal(w), reasons: map[string]int{}}
}

// object prints q as one JSON object; problem is the kind of err that a
// log may carry.
func (p *QuarantinePrinter) object(event string, q ingest.QuarantinedFile, to string, err error, problem string) {
	out := QuarantineJSON{Event: event, Inbox: q.Inbox, Ticket: q.Ticket, Reason: q.Reason, Bytes: q.Size, Since: q.Since.UTC()}
	if p.paths {
		out.Path, out.From, out.Message, out.To = q.Path, q.Rel, q.Why, to
	}
	if err != nil {
		out.Error = problem
		if p.paths {
			out.Error = OneLine(err.Error())
		}
	}
	json.NewEncoder(p.w).Encode(out)
}

// name is how a line names a file: its quarantine path on a terminal, else
// its inbox and ticket.
func (p *QuarantinePrinter) name(q ingest.QuarantinedFile) string {
	if p.paths {
		return EscapeName(q.Path)
	}
	t := "without a ticket"
	if q.Ticket != "" {
		t = "ticket " + q.Ticket
	}
	return fmt.Sprintf("a file in %s (%s, %s)", EscapeName(q.Inbox), q.Reason, t)
}

// Listed prints a file of veil quarantine list and counts it.
func (p *QuarantinePrinter) Listed(q ingest.QuarantinedFile) {
	p.reasons[q.Reason]++
	p.total++
	if p.json {
		p.object("quarantined", q, "", nil, "")
		return
	}
	when := q.Since.Local().Format("2006-01-02 15:04")
	if !p.paths {
		fmt.Fprintf(p.w, "%s, quarantined %s, %s\n", p.name(q), when, Plural(int(q.Size), "byte"))
		return
	}
	fmt.Fprintln(p.w, p.name(q))
	fmt.Fprintf(p.w, "  %s: %s\n", q.Reason, EscapeName(OneLine(q.Why)))
	from := "from " + EscapeName(q.Rel)
	if q.Unknown {
		from = "no reason file of veil's: retry puts it at " + EscapeName(q.Rel)
	}
	ticket := ""
	if q.Ticket != "" {
		ticket = ", ticket " + q.Ticket
	}
	fmt.Fprintf(p.w, "  %s, quarantined %s%s\n", from, when, ticket)
}

// ListSummary prints, in text, how many files were listed, by reason.
func (p *QuarantinePrinter) ListSummary() {
	if p.json {
		return
	}
	var parts []string
	for r, n := range p.reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, n))
	}
	slices.Sort(parts)
	summary := Plural(p.total, "file") + " in quarantine"
	if p.total > 0 {
		summary += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintln(p.w, summary)
}

// NotRetried reports on stderr, or as a JSON object, a file that could not
// be moved back; problem is the kind of err that a log may carry.
func (p *QuarantinePrinter) NotRetried(stderr io.Writer, q ingest.QuarantinedFile, err error, problem string) {
	switch {
	case p.json:
		p.object("not_retried", q, "", err, problem)
	case p.paths:
		fmt.Fprintf(stderr, "veil: %s: not retried: %s\n", p.name(q), EscapeName(OneLine(err.Error())))
	default:
		fmt.Fprintf(stderr, "veil: %s: not retried (%s)\n", p.name(q), problem)
	}
}

// Retried prints a file moved back to dst in its inbox.
func (p *QuarantinePrinter) Retried(q ingest.QuarantinedFile, dst string) {
	switch {
	case p.json:
		p.object("retried", q, dst, nil, "")
	case p.paths:
		fmt.Fprintf(p.w, "retried %s: back at %s\n", p.name(q), EscapeName(dst))
	default:
		fmt.Fprintf(p.w, "retried %s\n", p.name(q))
	}
}

// RetrySummary prints, in text, how many files were moved back.
func (p *QuarantinePrinter) RetrySummary(retried int) {
	if p.json {
		return
	}
	next := ""
	if retried > 0 {
		next = "; the next run takes them"
	}
	fmt.Fprintf(p.w, "retried %s%s\n", Plural(retried, "file"), next)
}
