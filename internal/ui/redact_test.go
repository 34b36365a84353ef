package ui

import (
	"errors"
	"testing"
)

// TestLogSafe: off a terminal, every inbox path in an error is cut back to
// its inbox up to where the message goes on; on a terminal it stays; control
// characters are escaped either way.
func TestLogSafe(t *testing.T) {
	err := WithInboxes(errors.New("ingest: /srv/inbox/Mary Major/before/a.jpg: input/output error; /srv/inbox/x\x1b[2J"), []string{"/srv/inbox/"})
	if got, want := LogSafe(err, false), `ingest: /srv/inbox/…: input/output error; /srv/inbox/…`; got != want {
		t.Errorf("log: %q, want %q", got, want)
	}
	if got, want := LogSafe(err, true), `ingest: /srv/inbox/Mary Major/before/a.jpg: input/output error; /srv/inbox/x\x1b[2J`; got != want {
		t.Errorf("terminal: %q, want %q", got, want)
	}
	if got := LogSafe(errors.New("plain /srv/inbox/Mary"), false); got != "plain /srv/inbox/Mary" {
		t.Errorf("an error not marked with its inboxes was changed: %q", got)
	}
}

// TestEscapeName: a printable name is shown as it is, any other quoted.
func TestEscapeName(t *testing.T) {
	for in, want := range map[string]string{
		"Jane Doe/IMG 1.jpg": "Jane Doe/IMG 1.jpg",
		"a\nb.jpg":           `"a\nb.jpg"`,
		"\x1b]0;x\a.jpg":     `"\x1b]0;x\a.jpg"`,
		"bad\xffutf8":        `"bad\xffutf8"`,
	} {
		if got := EscapeName(in); got != want {
			t.Errorf("EscapeName(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestLeftCategory: only the fixed start of a message reaches a log.
func TestLeftCategory(t *testing.T) {
	for msg, want := range map[string]string{
		"still being written (size changed)":           "still being written",
		"cannot be read: open /srv/inbox/Jane/a.jpg":   "cannot be read",
		"permission denied; /srv/inbox/Jane is locked": "permission denied",
		"plain": "plain",
	} {
		if got := LeftCategory(msg); got != want {
			t.Errorf("LeftCategory(%q) = %q, want %q", msg, got, want)
		}
	}
}
