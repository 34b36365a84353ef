package ui

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// PrintError prints err as the single line "veil: ...", with hint after
// it. With debug it also prints the chain of wrapped errors, which is what
// a bug report needs. Unless w is a terminal, inbox paths in the message
// are redacted (they hold patients' names), and control characters are
// always escaped.
func PrintError(w io.Writer, err error, hint string, debug bool) {
	terminal := IsTerminal(w)
	fmt.Fprintf(w, "veil: %s\n", OneLine(LogSafe(err, terminal)+hint))
	if debug {
		var ie InboxError
		errors.As(err, &ie)
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			shown := error(InboxError{Err: e, Inboxes: ie.Inboxes})
			fmt.Fprintf(w, "veil: debug: %T: %s\n", e, OneLine(LogSafe(shown, terminal)))
		}
	}
}

// LogError is PrintError for --json: the error as one event,
// {"time","level":"error","event":"error","message","exit"}, with inbox
// paths redacted as for any log.
func LogError(w io.Writer, err error, exit int) {
	NewEventLog(w, "").Emit(slog.LevelError, "error",
		slog.String("message", OneLine(LogSafe(err, false))), slog.Int("exit", exit))
}
