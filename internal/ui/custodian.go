package ui

import (
	"fmt"
	"io"
	"time"

	"github.com/veil-photo/veil/custody"
)

// The text of reveal and restore. reveal's output holds patient names and
// inbox paths by nature: it is for the custodian, never for a log.

// PrintLogged is the custodian's confirmation that the access is on record,
// with its receipt: the signed checkpoint that covers it, which the auditor
// pins so that the access can never be erased unseen.
func PrintLogged(w io.Writer, action string, codes int, g *custody.Grant) {
	fmt.Fprintf(w, "veil: logged %s of %s as record %d, signed by the custodian key\n", action, Plural(codes, "code"), g.Record)
	fmt.Fprintf(w, "veil: receipt (the signed checkpoint that includes this access; give it to your auditor):\n%s", g.Receipt)
}

// PrintRevealed prints the unsealed detail d of photo p.
func PrintRevealed(w io.Writer, p *custody.Photo, d *custody.Revealed) {
	r := p.Ingest
	fmt.Fprintf(w, "photo %s (record %d)\n", r.Photo, p.Record)
	fmt.Fprintf(w, "  subject   %s\n", r.Subject)
	fmt.Fprintf(w, "  phase     %s\n", r.Phase)
	fmt.Fprintf(w, "  patient   %s\n", d.Detail.PatientKey)
	fmt.Fprintf(w, "  original  %s\n", d.Detail.Path)
	fmt.Fprintf(w, "  name      %s\n", d.Detail.Name)
	fmt.Fprintf(w, "  sha256    %s\n", d.Detail.SHA256)
	fmt.Fprintf(w, "  size      %d bytes, modified %s\n", d.Detail.Size, d.Detail.ModTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  released  %s (%s, %dx%d)\n", r.Released.Path, r.Format, r.Released.Width, r.Released.Height)
	for _, dup := range d.Duplicates {
		fmt.Fprintf(w, "  duplicate %s (record %d)\n", dup.Detail.Path, dup.Record)
	}
}

// PrintRekeyed reports what veil rekey did to the vault in dir: the record
// it logged, on stderr, the recipients now, on stdout, and the receipt.
func PrintRekeyed(stdout, stderr io.Writer, dir string, done *custody.Rekeyed) {
	if done.Record >= 0 {
		fmt.Fprintf(stderr, "veil: logged the vault's keys as config record %d, signed by the custodian key\n", done.Record)
	} else {
		fmt.Fprintln(stderr, "veil: the log already holds these keys; nothing was logged")
	}
	fmt.Fprintf(stdout, "new originals are encrypted to %s:\n", Plural(len(done.Recipients), "recipient"))
	for _, r := range done.Recipients {
		fmt.Fprintf(stdout, "  %s\n", r)
	}
	fmt.Fprintf(stderr, "veil: give %s/auditor.pub to your auditors to pin; receipt:\n%s", dir, done.Receipt)
}

// CustodianPrinter prints what reveal and restore did: text for the
// custodian, or with JSON an event per step on Stdout. Quiet drops what
// only confirms.
type CustodianPrinter struct {
	Stdout, Stderr io.Writer
	JSON, Quiet    bool
}

// Logged reports that the access of codes by action is on record.
func (p CustodianPrinter) Logged(action string, codes int, g *custody.Grant) {
	switch {
	case p.JSON:
		LogLogged(p.Stdout, action, codes, g)
	case !p.Quiet:
		PrintLogged(p.Stderr, action, codes, g)
	}
}

// Subject heads the photos of a subject code in the text.
func (p CustodianPrinter) Subject(m custody.Match) {
	if !p.JSON {
		fmt.Fprintf(p.Stdout, "subject %s: %s\n", m.Code, Plural(len(m.Photos), "photo"))
	}
}

// Revealed prints the unsealed detail d of photo ph.
func (p CustodianPrinter) Revealed(ph *custody.Photo, d *custody.Revealed) {
	if p.JSON {
		LogRevealed(p.Stdout, ph, d)
	} else {
		PrintRevealed(p.Stdout, ph, d)
	}
}

// Restored reports the original of ph written to path.
func (p CustodianPrinter) Restored(ph *custody.Photo, path string, size int64) {
	switch {
	case p.JSON:
		LogRestored(p.Stdout, ph, path, size)
	case !p.Quiet:
		fmt.Fprintf(p.Stdout, "restored %s to %s (%d bytes, sha256 matches the record)\n", ph.Ingest.Photo, path, size)
	}
}

// Failed reports a photo that could not be unsealed or restored.
func (p CustodianPrinter) Failed(ph *custody.Photo, err error) {
	fmt.Fprintf(p.Stderr, "veil: photo %s: %s\n", ph.Ingest.Photo, OneLine(err.Error()))
}
