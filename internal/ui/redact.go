package ui

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// redactInboxPaths replaces, in a message, every path under one of the
// inboxes by the inbox followed by "/…". A path ends where the message goes
// on (": ", the convention of wrapped errors) or at its end.
func redactInboxPaths(msg string, inboxes []string) string {
	for _, in := range inboxes {
		prefix := strings.TrimSuffix(in, string(filepath.Separator)) + string(filepath.Separator)
		var b strings.Builder
		rest := msg
		for {
			i := strings.Index(rest, prefix)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			b.WriteString(rest[:i+len(prefix)])
			b.WriteString("…")
			rest = rest[i+len(prefix):]
			if j := strings.Index(rest, ": "); j >= 0 {
				rest = rest[j:]
			} else {
				rest = ""
			}
		}
		msg = b.String()
	}
	return msg
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
		msg = redactInboxPaths(msg, ie.Inboxes)
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
