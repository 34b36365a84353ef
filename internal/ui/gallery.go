package ui

import (
	"fmt"
	"io"

	"github.com/veil-photo/veil/gallery"
)

// GalleryEvent is what veil gallery --json prints for each photo. It
// carries codes only, like the site.
type GalleryEvent struct {
	Event   string `json:"event"` // rendered, placeholder, failed, removed
	Photo   string `json:"photo"`
	Subject string `json:"subject,omitempty"`
	Format  string `json:"format,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// GallerySummary is the last JSON object: every count, zeros included.
type GallerySummary struct {
	Event string `json:"event"` // summary
	Site  string `json:"site"`
	gallery.Stats
	Seconds float64 `json:"seconds"`
}

// GalleryPrinter prints the photos of veil gallery as they are done:
// failures on stderr, a hint for each placeholder when heif-convert is
// missing, or everything as JSON events on stdout.
type GalleryPrinter struct {
	stdout, stderr io.Writer
	json, quiet    bool
	noHEIF         bool // heif-convert is not installed
	prog           *Progress
	enc            *EventLog
}

// NewGalleryPrinter returns a GalleryPrinter that draws prog as photos are
// done; noHEIF says that HEIC and AVIF photos become placeholders.
func NewGalleryPrinter(stdout, stderr io.Writer, jsonOut, quiet, noHEIF bool, prog *Progress) *GalleryPrinter {
	return &GalleryPrinter{stdout: stdout, stderr: stderr, json: jsonOut, quiet: quiet, noHEIF: noHEIF, prog: prog,
		enc: NewEventLog(stdout, "")}
}

// Photo prints one photo gallery.Build reported.
func (p *GalleryPrinter) Photo(e gallery.Event) {
	p.prog.Add(0)
	ev := GalleryEvent{Event: string(e.Action), Photo: e.Photo.String(), Format: e.Format}
	if !e.Subject.IsZero() {
		ev.Subject = e.Subject.String()
	}
	if e.Err != nil {
		ev.Reason = OneLine(e.Err.Error())
	}
	switch {
	case p.json:
		p.enc.Encode(ev)
	case e.Action == gallery.Failed:
		p.prog.Println(p.stderr, "veil: "+ev.Reason)
	case !p.quiet && e.Action == gallery.Placeholder && p.noHEIF:
		p.prog.Println(p.stderr, "veil: "+ev.Photo+": "+ev.Format+" shown as a placeholder: install libheif's heif-convert to render it")
	}
}

// Summary prints the counts of a build of site that took seconds.
func (p *GalleryPrinter) Summary(site string, st gallery.Stats, seconds float64) {
	if p.json {
		p.enc.Encode(GallerySummary{Event: "summary", Site: site, Stats: st, Seconds: seconds})
	} else if !p.quiet {
		fmt.Fprintf(p.stdout, "gallery %s: %s, %s: rendered %d, kept %d, placeholders %d, failed %d, removed %d, %.1f s\n",
			site, Plural(st.Subjects, "subject"), Plural(st.Photos, "photo"),
			st.Rendered, st.Kept, st.Placeholders, st.Failed, st.Removed, seconds)
	}
}
