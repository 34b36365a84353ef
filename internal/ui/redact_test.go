package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// TestLogSafe: off a terminal, an error is cut at its first inbox path,
// keeping only an errno cause at its end; on a terminal it stays; control
// characters are escaped either way.
func TestLogSafe(t *testing.T) {
	read := func(path string, errno syscall.Errno) error {
		return fmt.Errorf("ingest: %w", &fs.PathError{Op: "open", Path: path, Err: errno})
	}
	for _, tc := range []struct {
		name    string
		err     error
		inboxes []string
		want    string
	}{
		{"errno kept", read("/srv/inbox/Mary Major/before/a.jpg", syscall.EIO), []string{"/srv/inbox/"},
			"ingest: open /srv/inbox/…: input/output error"},
		// A folder name holding ": " (red team, PoC 11): the cut is not
		// at the first ": " after the path.
		{"name with a colon", fmt.Errorf("ingest: %w", &fs.PathError{Op: "write",
			Path: "/srv/inbox/Doe, Jane: DOB 1985-03-02 MRN 483920/before/IMG_1.jpg", Err: syscall.ENOSPC}),
			[]string{"/srv/inbox"}, "ingest: write /srv/inbox/…: no space left on device"},
		// The inbox given as ./inbox: joined paths say inbox/...
		{"relative inbox", read("inbox/Doe, Jane: DOB 1985-03-02/before/IMG_1.jpg", syscall.ENOSPC), []string{"./inbox"},
			"ingest: open inbox/…: no space left on device"},
		// No errno at the end: nothing after the path is kept.
		{"no errno", errors.New("ingest: /srv/inbox/Mary Major/a.jpg: Mary Major; /srv/inbox/x\x1b[2J"), []string{"/srv/inbox"},
			"ingest: /srv/inbox/…"},
	} {
		got := LogSafe(WithInboxes(tc.err, tc.inboxes), false)
		if got != tc.want {
			t.Errorf("%s: log: %q, want %q", tc.name, got, tc.want)
		}
		for _, phi := range []string{"Mary", "Jane", "DOB", "483920"} {
			if strings.Contains(got, phi) {
				t.Errorf("%s: %q reaches the log", tc.name, phi)
			}
		}
	}
	err := WithInboxes(errors.New("ingest: /srv/inbox/Mary Major/before/a.jpg: input/output error; /srv/inbox/x\x1b[2J"), []string{"/srv/inbox/"})
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
