package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Exit codes of the CLI contract (SPEC: Commands). 10, 11 and 12 are
// restic's codes for the same conditions, which scripts already know.
const (
	exitOK              = 0
	exitError           = 1
	exitUsage           = 2
	exitVerifyFail      = 3
	exitQuarantined     = 4
	exitLeftBehind      = 5
	exitNoVault         = 10
	exitLocked          = 11
	exitWrongPassphrase = 12
)

// exitTable is the exit status table shown at the end of every --help and
// in README (a test keeps the two equal).
const exitTable = `Exit status:
  0   success
  1   error
  2   usage error: a wrong command, flag or argument
  3   verification failed: verify found something, or ingest, reveal or restore refused a log or keys that fail
  4   some files were quarantined, refused or unreadable (see the lines above)
  5   files were left in the inbox (ingest): see the lines above
  10  no vault at --vault (the folder is missing, or holds no vault)
  11  the vault is locked by another veil (watch, ingest, reveal)
  12  wrong passphrase for the custodian identity`

// usageError marks a mistake in how veil was called (exit 2).
type usageError struct {
	err error
	cmd string
}

func (e usageError) Error() string {
	return fmt.Sprintf("%v (see '%s --help')", e.err, e.cmd)
}
func (e usageError) Unwrap() error { return e.err }

// usagef is a usageError of the command c, its message prefixed with c's name.
func usagef(c *cobra.Command, format string, a ...any) error {
	return usageError{err: fmt.Errorf(c.Name()+": "+format, a...), cmd: c.CommandPath()}
}

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
	was, were := "was ", "were "
	if strings.HasPrefix(e.verb, "would ") {
		was, were = "", ""
	}
	if e.refused == 1 {
		return fmt.Sprintf("1 file %s%s (see above)", was, e.verb)
	}
	return fmt.Sprintf("%d files %s%s (see above)", e.refused, were, e.verb)
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
	case errors.Is(err, vault.ErrNotVault):
		return exitNoVault
	case errors.As(err, new(*vault.LockedError)):
		return exitLocked
	case errors.Is(err, vault.ErrWrongPassphrase):
		return exitWrongPassphrase
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

// reportError prints err as the single line "veil: ..." (see ui.PrintError),
// pointing to --help after a mistake cobra found.
func reportError(w io.Writer, err error, debug bool) {
	hint := ""
	if isCobraUsage(err) && !errors.As(err, new(usageError)) {
		hint = " (see 'veil --help')"
	}
	ui.PrintError(w, err, hint, debug)
}

// jsonMode reports whether the command that ran was given --json (its own
// flag or the global one).
func jsonMode(c *cobra.Command) bool {
	if c == nil {
		return false
	}
	f := c.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// argsRange is cobra.RangeArgs with an error that maps to exit code 2.
func argsRange(min, max int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min {
			return usagef(c, "missing %s", what)
		}
		if max >= 0 && len(args) > max {
			return usagef(c, "too many arguments")
		}
		return nil
	}
}
