package ui

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"golang.org/x/term"
)

// An inbox path holds a patient's name (the layout puts it there), so what
// veil prints for logs — --json, and any line written to a stream that is
// not a terminal (journald, cron mail, a SIEM) — names inbox files only by
// their inbox folder, a quarantine ticket and a reason category. Only an
// operator at a terminal sees the paths; the full story is in the reason
// file inside the inbox's quarantine, which is staff territory.

// IsTerminal reports whether w is a terminal, where a person reads what
// veil prints rather than a log.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// EscapeName returns a file name as it can be printed: unchanged when every
// character is printable, else quoted Go-style, so that a name carrying
// terminal escape sequences or newlines can neither drive the operator's
// terminal nor forge a log line.
func EscapeName(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return strconv.Quote(s)
		}
	}
	return s
}

// EscapeControls escapes the control characters of a message that may
// quote a file name, leaving the rest as it is.
func EscapeControls(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) || r == ' ' {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// redactInboxPaths cuts a message at the first path under one of the
// inboxes, leaving the inbox followed by "/…". Nothing after it can be
// trusted to be free of the patient's name: a folder name may itself hold
// ": " and look like the rest of a wrapped error. Only cause, the text of
// the innermost error when it names no file (an errno such as "no space
// left on device"), is put back when the message ends with it. An inbox is
// looked for as the operator typed it, cleaned ("./inbox" is "inbox" in
// joined paths) and absolute.
func redactInboxPaths(msg string, inboxes []string, cause string) string {
	cut := -1
	for _, in := range inboxes {
		forms := []string{in, filepath.Clean(in)}
		if abs, err := filepath.Abs(in); err == nil {
			forms = append(forms, abs)
		}
		for _, form := range forms {
			prefix := strings.TrimSuffix(form, string(filepath.Separator)) + string(filepath.Separator)
			if i := strings.Index(msg, prefix); i >= 0 && (cut < 0 || i+len(prefix) < cut) {
				cut = i + len(prefix)
			}
		}
	}
	if cut < 0 {
		return msg
	}
	out := msg[:cut] + "…"
	if cause != "" && strings.HasSuffix(msg[cut:], ": "+cause) {
		out += ": " + cause
	}
	return out
}

// innermostCause returns the text of the innermost error of err when it is
// an errno, whose text names no file; else "".
func innermostCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return ""
}

// InboxError marks an error whose message may carry paths under the
// inboxes; LogSafe redacts them unless the reader is at a terminal.
type InboxError struct {
	Err     error
	Inboxes []string // the inbox arguments, as the operator typed them
}

// Error is the message of the wrapped error, paths and all.
func (e InboxError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e InboxError) Unwrap() error { return e.Err }

// WithInboxes wraps err, if any, as an InboxError.
func WithInboxes(err error, inboxes []string) error {
	if err == nil {
		return nil
	}
	return InboxError{Err: err, Inboxes: inboxes}
}

// LogSafe returns the text of err as it may be printed: escaped always, and
// with inbox paths redacted unless the reader is at a terminal.
func LogSafe(err error, terminal bool) string {
	msg := err.Error()
	var ie InboxError
	if !terminal && errors.As(err, &ie) {
		msg = redactInboxPaths(msg, ie.Inboxes, innermostCause(err))
	}
	return EscapeControls(msg)
}

// LeftCategory is the kind of a file left in the inbox, from the fixed start
// of its event's message ("still being written", "cannot be read"...), which
// is all of it that a log may carry: the rest can quote the file's path.
func LeftCategory(msg string) string {
	if i := strings.IndexAny(msg, ":(;"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}
