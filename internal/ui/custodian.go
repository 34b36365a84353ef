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
