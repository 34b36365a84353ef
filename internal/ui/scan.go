package ui

import (
	"fmt"
	"io"
	"strings"

	"github.com/veil-photo/veil/photo"
)

// ScanResult is what veil scan reports for one file, and its --json form.
type ScanResult struct {
	Path        string          `json:"path"`
	Format      string          `json:"format,omitempty"`
	Width       int             `json:"width,omitempty"`
	Height      int             `json:"height,omitempty"`
	Orientation int             `json:"orientation,omitempty"`
	Findings    []photo.Finding `json:"findings"`
	Error       string          `json:"error,omitempty"`
	// HEIC and AVIF: the size once irot/imir are applied, and the Exif
	// orientation a reader that ignores them would follow.
	DisplayWidth    int `json:"display_width,omitempty"`
	DisplayHeight   int `json:"display_height,omitempty"`
	ExifOrientation int `json:"exif_orientation,omitempty"`
}

// NewScanResult is the result of a file whose scan gave rep, or err in
// the user's words; the values found are dropped unless values is set, as
// they may name a patient.
func NewScanResult(path string, rep *photo.Report, err error, values bool) ScanResult {
	r := ScanResult{Path: path}
	if err != nil {
		r.Error = photo.Explain(err)
		return r
	}
	r.Format, r.Width, r.Height, r.Orientation = rep.Format.String(), rep.Width, rep.Height, rep.Orientation
	if rep.Format == photo.HEIF || rep.Format == photo.AVIF {
		r.DisplayWidth, r.DisplayHeight = rep.DisplaySize()
		r.ExifOrientation = rep.ExifOrientation
	}
	r.Findings = rep.Findings
	if !values {
		for i := range r.Findings {
			r.Findings[i].Value = ""
		}
	}
	return r
}

// ScanPrinter prints the results of veil scan and counts them for the
// summary: unreadable files on stderr, or everything as JSON events.
type ScanPrinter struct {
	stdout, stderr           io.Writer
	json                     bool
	enc                      *EventLog
	total, withMeta, refused int
}

// NewScanPrinter returns a ScanPrinter.
func NewScanPrinter(stdout, stderr io.Writer, jsonOut bool) *ScanPrinter {
	return &ScanPrinter{stdout: stdout, stderr: stderr, json: jsonOut, enc: NewEventLog(stdout, "scanned")}
}

// File prints and counts the result of one file.
func (p *ScanPrinter) File(r ScanResult) {
	p.total++
	if r.Error != "" {
		p.refused++
		if !p.json {
			fmt.Fprintf(p.stderr, "veil: %s\n", OneLine(r.Path+": "+r.Error))
			return
		}
	}
	if len(r.Findings) > 0 {
		p.withMeta++
	}
	if p.json {
		if r.Findings == nil {
			r.Findings = []photo.Finding{}
		}
		p.enc.Encode(r)
		return
	}
	printScan(p.stdout, r)
}

// Summary prints the counts in text; JSON has none.
func (p *ScanPrinter) Summary() {
	if !p.json {
		fmt.Fprintf(p.stdout, "scanned %s: %d carry identifying metadata, %d clean, %d unreadable\n",
			Plural(p.total, "file"), p.withMeta, p.total-p.withMeta-p.refused, p.refused)
	}
}

// Unreadable is the number of files that could not be scanned so far.
func (p *ScanPrinter) Unreadable() int { return p.refused }

// printScan prints a file's result in text, its findings by category.
func printScan(w io.Writer, r ScanResult) {
	state := "clean"
	if len(r.Findings) > 0 {
		state = fmt.Sprintf("%d findings", len(r.Findings))
	}
	size := fmt.Sprintf("%dx%d", r.Width, r.Height)
	orient := fmt.Sprintf("orientation %d", r.Orientation)
	if r.DisplayWidth != 0 {
		// HEIC/AVIF: rotation is a property of the container (irot/imir),
		// so say what a viewer shows, and what one that follows the Exif
		// item instead would show.
		size = fmt.Sprintf("%dx%d stored, displays %dx%d", r.Width, r.Height, r.DisplayWidth, r.DisplayHeight)
		orient += " (from irot/imir)"
		if r.ExifOrientation != 0 {
			orient += fmt.Sprintf(", Exif orientation %d (what a reader that ignores irot/imir shows)", r.ExifOrientation)
		}
	}
	fmt.Fprintf(w, "%s: %s %s, %s, %s\n", EscapeName(r.Path), r.Format, size, orient, state)
	for _, cat := range photo.Categories {
		for _, f := range r.Findings {
			if f.Category != cat {
				continue
			}
			line := fmt.Sprintf("  %-10s %-13s %s", f.Category, f.Source, f.Name)
			if f.Value != "" {
				line += " = " + f.Value
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}
}
