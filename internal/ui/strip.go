package ui

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/stripcopy"
)

// StripEvent is what veil strip --json prints for each file and at the end.
type StripEvent struct {
	Event       string   `json:"event"` // stripped, refused, summary
	Path        string   `json:"path,omitempty"`
	Out         string   `json:"out,omitempty"`
	Format      string   `json:"format,omitempty"`
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	Orientation int      `json:"orientation,omitempty"`
	Dropped     []string `json:"dropped,omitempty"`
	BytesIn     int64    `json:"bytes_in,omitempty"`
	BytesOut    int64    `json:"bytes_out,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Stripped    int      `json:"stripped,omitempty"`
	Refused     int      `json:"refused,omitempty"`
	Seconds     float64  `json:"seconds,omitempty"`
}

// NewStripEvent is the event of one file stripcopy reported.
func NewStripEvent(ev stripcopy.Event) StripEvent {
	if ev.Err != nil {
		return StripEvent{Event: "refused", Path: ev.Path, Reason: stripReason(ev)}
	}
	r := ev.Result
	return StripEvent{
		Event: "stripped", Path: ev.Path, Out: ev.Out, Format: r.Format.String(),
		Width: r.Width, Height: r.Height, Orientation: r.Orientation, Dropped: r.Dropped,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut,
	}
}

// stripReason says why an input was refused, with the flag that helps.
func stripReason(ev stripcopy.Event) string {
	switch {
	case errors.Is(ev.Err, stripcopy.ErrSameFile):
		return ev.Err.Error() + " (choose another -o folder)"
	case errors.Is(ev.Err, fs.ErrExist):
		return fmt.Sprintf("%s already exists (use --force to replace it)", ev.Out)
	}
	return photo.Explain(ev.Err)
}

// StripPrinter prints the files of veil strip as they are done and counts
// them for the summary: refusals on stderr, copies on stdout unless quiet
// or a progress line is drawn, or everything as JSON events on stdout.
type StripPrinter struct {
	stdout, stderr io.Writer
	json, quiet    bool
	prog           *Progress
	enc            *EventLog
	sum            StripEvent
}

// NewStripPrinter returns a StripPrinter that draws prog as files are done.
func NewStripPrinter(stdout, stderr io.Writer, jsonOut, quiet bool, prog *Progress) *StripPrinter {
	return &StripPrinter{stdout: stdout, stderr: stderr, json: jsonOut, quiet: quiet, prog: prog,
		enc: NewEventLog(stdout, ""), sum: StripEvent{Event: "summary"}}
}

// File prints and counts one file stripcopy reported.
func (p *StripPrinter) File(e stripcopy.Event) {
	ev := NewStripEvent(e)
	switch ev.Event {
	case "stripped":
		p.sum.Stripped++
		p.sum.BytesIn += ev.BytesIn
		p.sum.BytesOut += ev.BytesOut
		p.prog.Add(ev.BytesIn)
	case "refused":
		p.sum.Refused++
		p.prog.Add(0)
	}
	switch {
	case p.json:
		p.enc.Encode(ev)
	case ev.Event == "refused":
		p.prog.Println(p.stderr, "veil: "+OneLine(ev.Path+": "+ev.Reason))
	case !p.quiet && !p.prog.On():
		p.prog.Println(p.stdout, fmt.Sprintf("%s -> %s", ev.Path, ev.Out))
	}
}

// Summary prints the counts of the run, which took seconds.
func (p *StripPrinter) Summary(seconds float64) {
	p.sum.Seconds = seconds
	if p.json {
		p.enc.Encode(p.sum)
	} else if !p.quiet {
		fmt.Fprintf(p.stdout, "stripped %s (%s -> %s), refused %d, %.1f s\n",
			Plural(p.sum.Stripped, "file"), HumanBytes(p.sum.BytesIn), HumanBytes(p.sum.BytesOut), p.sum.Refused, p.sum.Seconds)
	}
}

// Refused is the number of files refused so far.
func (p *StripPrinter) Refused() int { return p.sum.Refused }
