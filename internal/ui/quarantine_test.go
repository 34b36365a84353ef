package ui

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/veil-photo/veil/ingest"
)

// TestQuarantinePrinterLog: off a terminal and without --paths, a
// quarantined file is named by its inbox, reason and ticket only, in text
// and in JSON; with --paths its path and explanation are shown.
func TestQuarantinePrinterLog(t *testing.T) {
	q := ingest.QuarantinedFile{Inbox: "inbox", Path: "inbox/.quarantine/Mary Major/a.jpg", Rel: "Mary Major/a.jpg",
		Reason: "phase", Why: "unknown phase in Mary Major", Ticket: "q-0123456789", Size: 2, Since: time.Unix(0, 0)}
	var out, errOut bytes.Buffer
	for _, jsonOut := range []bool{false, true} {
		p := NewQuarantinePrinter(&out, jsonOut, false)
		p.Listed(q)
		p.Retried(q, "inbox/Mary Major/a.jpg")
		p.NotRetried(&errOut, q, &fs.PathError{Op: "rename", Path: "inbox/Mary Major/a.jpg", Err: fs.ErrExist}, "a file is already at its old place in the inbox")
		p.ListSummary()
	}
	if all := out.String() + errOut.String(); strings.Contains(all, "Mary") {
		t.Errorf("a log names the patient:\n%s", all)
	}
	if !strings.Contains(out.String(), "a file in inbox (phase, ticket q-0123456789), quarantined ") || !strings.Contains(out.String(), `"ticket":"q-0123456789"`) {
		t.Errorf("stdout:\n%s", out.String())
	}
	out.Reset()
	p := NewQuarantinePrinter(&out, true, true)
	p.NotRetried(&errOut, q, errors.New("rename inbox/Mary Major/a.jpg: file exists"), "a file is already at its old place in the inbox")
	if !strings.Contains(out.String(), `"path":"inbox/.quarantine/Mary Major/a.jpg"`) || !strings.Contains(out.String(), `"error":"rename inbox/Mary Major/a.jpg: file exists"`) {
		t.Errorf("--paths --json:\n%s", out.String())
	}
}
