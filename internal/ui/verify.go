package ui

import (
	"fmt"
	"io"
	"time"

	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/manifest"
)

// VerifySummary is the last object of veil verify --json, and the numbers of
// its last line of text.
type VerifySummary struct {
	Records     int64   `json:"records"`
	Photos      int64   `json:"photos"`
	Subjects    int64   `json:"subjects"`
	Duplicates  int64   `json:"duplicates"`
	Quarantined int64   `json:"quarantined"`
	Access      int64   `json:"access_events"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	Findings    int     `json:"findings"`
	Checkpoint  int64   `json:"checkpoint_size"`
	Trusted     string  `json:"keys_from"` // "pub" or "vault"
}

// NewVerifySummary sums up rep, an audit that took seconds with the keys
// from keysFrom ("pub" or "vault").
func NewVerifySummary(rep *manifest.Report, seconds float64, keysFrom string) VerifySummary {
	sum := VerifySummary{
		Records: rep.Records, Photos: rep.Photos, Subjects: rep.Subjects, Duplicates: rep.Duplicates,
		Quarantined: rep.Quarantines, Access: rep.Accesses, Bytes: rep.Bytes,
		Seconds: seconds, Findings: len(rep.Findings) + rep.Omitted, Trusted: keysFrom,
	}
	if rep.Checkpoint != nil {
		sum.Checkpoint = rep.Checkpoint.N
	}
	return sum
}

// VerifyPrinter prints an audit on w: one line or JSON event per finding
// and per access, then the summary.
type VerifyPrinter struct {
	w    io.Writer
	json bool
	enc  *EventLog
}

// NewVerifyPrinter returns a VerifyPrinter.
func NewVerifyPrinter(w io.Writer, jsonOut bool) *VerifyPrinter {
	return &VerifyPrinter{w: w, json: jsonOut, enc: NewEventLog(w, "")}
}

// Report prints the findings of rep and every access in its log.
func (p *VerifyPrinter) Report(rep *manifest.Report) {
	for _, f := range rep.Findings {
		if p.json {
			p.enc.Encode(struct {
				Finding manifest.Finding `json:"finding"`
			}{f})
		} else {
			fmt.Fprintln(p.w, OneLine(f.String()))
		}
	}
	if rep.Omitted > 0 && !p.json {
		fmt.Fprintf(p.w, "... and %d more findings\n", rep.Omitted)
	}
	// Every reversal of a code is shown, marked new when it came after the
	// auditor's pinned checkpoint: that is what a nightly audit reads.
	for _, a := range rep.AccessLog {
		isNew := rep.Pinned == nil || a.Record >= rep.Pinned.N
		if p.json {
			p.enc.Encode(struct {
				Access manifest.AccessEvent `json:"access"`
				New    bool                 `json:"new"`
			}{a, isNew})
			continue
		}
		mark := ""
		if isNew && rep.Pinned != nil {
			mark = " (new)"
		}
		fmt.Fprintf(p.w, "access: record %d%s: %s %s of %s by custodian %s: %q\n", a.Record, mark,
			a.Time.UTC().Format(time.RFC3339), a.Action, Plural(len(a.Codes), "code"), ShortKey(a.Custodian), a.Reason)
	}
}

// Summary prints sum: with quiet, in text only when there are findings.
func (p *VerifyPrinter) Summary(sum VerifySummary, quiet bool) {
	if p.json {
		p.enc.Encode(struct {
			Summary VerifySummary `json:"summary"`
		}{sum})
	} else if !quiet || sum.Findings > 0 {
		result := "ok"
		if sum.Findings > 0 {
			result = Plural(sum.Findings, "finding")
		}
		fmt.Fprintf(p.w, "verified %s (%s, %s, %s, %s, %s), %d bytes in blobs, %.1f s: %s\n",
			Plural(int(sum.Records), "record"), Plural(int(sum.Photos), "photo"), Plural(int(sum.Subjects), "subject"),
			Plural(int(sum.Duplicates), "duplicate"), Plural(int(sum.Quarantined), "quarantine"),
			Plural(int(sum.Access), "access event"), sum.Bytes, sum.Seconds, result)
	}
}

// PinNote says what pinning the audited checkpoint in path did (see
// audit.AdvancePin), or "" when there is nothing to say.
func PinNote(path string, rep *manifest.Report, up audit.PinUpdate) string {
	switch {
	case rep.Checkpoint == nil:
		return "the log has no checkpoint yet; nothing pinned"
	case !up.Wrote:
		return ""
	case !up.Had:
		return fmt.Sprintf("pinned the checkpoint of %s in %s", Plural(int(up.To), "record"), path)
	}
	return fmt.Sprintf("advanced %s from %d to %d records", path, up.From, up.To)
}
