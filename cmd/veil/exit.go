package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/manifest"
)

// Exit codes of the CLI contract (SPEC: Commands).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitVerifyFail  = 3
	exitQuarantined = 4
	exitLeftBehind  = 5
)

// usageError marks a mistake in how veil was called (exit 2).
type usageError struct {
	err error
	cmd string
}

func (e usageError) Error() string {
	return fmt.Sprintf("%v (see '%s --help')", e.err, e.cmd)
}
func (e usageError) Unwrap() error { return e.err }

// errVerifyFailed is returned when an audit found problems (exit 3). The
// findings themselves have already been printed.
var errVerifyFailed = errors.New("verification failed")

// partialError is returned when a command finished but refused or quarantined
// some files (exit 4). The refusals have already been reported one by one.
type partialError struct {
	refused int
	verb    string
}

func (e partialError) Error() string {
	if e.refused == 1 {
		return fmt.Sprintf("1 file was %s (see above)", e.verb)
	}
	return fmt.Sprintf("%d files were %s (see above)", e.refused, e.verb)
}

// leftBehindError is returned when a run finished but files it should have
// taken, quarantined or removed are still in the inbox (exit 5): committed
// sources it could not remove, files or folders it could not read, files it
// could not move into quarantine. Each was reported on its own line. It
// outranks quarantines (exit 4): a quarantined file is out of the inbox and
// explained, these are not, and they will be there for the next run too.
type leftBehindError struct{ n int }

func (e leftBehindError) Error() string {
	if e.n == 1 {
		return "1 file is still in the inbox that veil could not take, quarantine or remove (see above); fix what the line says, usually a permission (docs/permissions.md)"
	}
	return fmt.Sprintf("%d files are still in the inbox that veil could not take, quarantine or remove (see above); fix what the lines say, usually a permission (docs/permissions.md)", e.n)
}

// exitCode maps an error to the exit code of the CLI contract. It is the one
// place where that mapping lives.
func exitCode(err error) int {
	var ue usageError
	var pe partialError
	var lb leftBehindError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), isCobraUsage(err):
		return exitUsage
	case errors.Is(err, errVerifyFailed), errors.Is(err, manifest.ErrInconsistent), errors.As(err, new(*custody.KeysChangedError)):
		// A log this host cannot account for, or a vault.json whose keys
		// no custodian committed: tampering until shown otherwise.
		return exitVerifyFail
	case errors.As(err, &lb):
		return exitLeftBehind
	case errors.As(err, &pe):
		return exitQuarantined
	default:
		return exitError
	}
}

// isCobraUsage recognises the errors cobra itself returns for an unknown
// command; cobra offers no typed error for it.
func isCobraUsage(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ") ||
		strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.HasPrefix(err.Error(), "unknown shorthand flag")
}

// reportError prints err as the single line "veil: ...". With debug it also
// prints the chain of wrapped errors, which is what a bug report needs.
func reportError(w io.Writer, err error, debug bool) {
	msg := err.Error()
	var ue usageError
	if isCobraUsage(err) && !errors.As(err, &ue) {
		msg += " (see 'veil --help')"
	}
	fmt.Fprintf(w, "veil: %s\n", oneLine(msg))
	if debug {
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			fmt.Fprintf(w, "veil: debug: %T: %v\n", e, e)
		}
	}
}

// oneLine keeps an error on one line: file names and library messages can
// carry newlines, which would break log parsing.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// argsRange is cobra.RangeArgs with an error that maps to exit code 2.
func argsRange(min, max int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min {
			return usageError{err: fmt.Errorf("%s: missing %s", c.Name(), what), cmd: c.CommandPath()}
		}
		if max >= 0 && len(args) > max {
			return usageError{err: fmt.Errorf("%s: too many arguments", c.Name()), cmd: c.CommandPath()}
		}
		return nil
	}
}
