package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/ui"
)

// QuarantineOptions are the flags of veil quarantine list and retry.
type QuarantineOptions struct {
	JSON  bool
	Paths bool
}

func newQuarantineCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "quarantine",
		Short: "List the files in an inbox's quarantine, or move fixed ones back into the inbox",

		Long:    helpLong("quarantine"),
		Example: helpExample("quarantine"),

		Args: argsRange(0, 0, ""),
	}
	c.AddCommand(newQuarantineListCommand(), newQuarantineRetryCommand())
	return c
}

func newQuarantineListCommand() *cobra.Command {
	var opts QuarantineOptions
	c := &cobra.Command{
		Use:   "list INBOX... [--json] [--paths]",
		Short: "List the files in the inboxes' quarantine with their reasons",

		Long:    helpLong("quarantine-list"),
		Example: helpExample("quarantine-list"),

		Args: argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			return runQuarantineList(opts, args, c.OutOrStdout())
		},
	}
	addQuarantineFlags(c, &opts)
	return c
}

func newQuarantineRetryCommand() *cobra.Command {
	var opts QuarantineOptions
	c := &cobra.Command{
		Use:   "retry INBOX... [FILE-OR-TICKET...]",
		Short: "Move quarantined files back to where they were in the inbox",

		Long:    helpLong("quarantine-retry"),
		Example: helpExample("quarantine-retry"),

		Args: argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			return runQuarantineRetry(c, opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addQuarantineFlags(c, &opts)
	return c
}

func addQuarantineFlags(c *cobra.Command, o *QuarantineOptions) {
	f := c.Flags()
	f.BoolVar(&o.JSON, "json", false, "one JSON object per file, without paths unless --paths")
	f.BoolVar(&o.Paths, "paths", false, "show paths and explanations also with --json or off a terminal (they name patients)")
}

func runQuarantineList(opts QuarantineOptions, inboxes []string, stdout io.Writer) error {
	p := ui.NewQuarantinePrinter(stdout, opts.JSON, opts.Paths)
	for _, in := range inboxes {
		if err := checkInbox(in); err != nil {
			return err
		}
		qs, err := ingest.ListQuarantine(in)
		if err != nil {
			return err
		}
		for _, q := range qs {
			p.Listed(q)
		}
	}
	p.ListSummary()
	return nil
}

// ticketPattern is the shape of a quarantine ticket.
var ticketPattern = regexp.MustCompile(`^q-[0-9a-f]{10}$`)

func runQuarantineRetry(c *cobra.Command, opts QuarantineOptions, args []string, stdout, stderr io.Writer) error {
	// An argument is a ticket, a path inside an inbox's quarantine, or an
	// inbox; a path inside a quarantine brings its inbox along.
	var inboxes, tickets, paths []string
	for _, a := range args {
		switch in, ok := quarantineInbox(a); {
		case ticketPattern.MatchString(a):
			tickets = append(tickets, a)
		case ok:
			abs, err := filepath.Abs(a)
			if err != nil {
				return err
			}
			paths = append(paths, abs)
			if !slices.Contains(inboxes, in) {
				inboxes = append(inboxes, in)
			}
		default:
			if !slices.Contains(inboxes, a) {
				inboxes = append(inboxes, a)
			}
		}
	}
	if len(inboxes) == 0 {
		return usageError{err: errors.New("retry: missing an inbox folder"), cmd: c.CommandPath()}
	}
	selected := func(q ingest.QuarantinedFile) bool {
		if len(tickets) == 0 && len(paths) == 0 {
			return true
		}
		if q.Ticket != "" && slices.Contains(tickets, q.Ticket) {
			return true
		}
		abs, err := filepath.Abs(q.Path)
		return err == nil && slices.ContainsFunc(paths, func(p string) bool {
			return abs == p || strings.HasPrefix(abs, p+string(filepath.Separator))
		})
	}

	p := ui.NewQuarantinePrinter(stdout, opts.JSON, opts.Paths)
	retried, refused := 0, 0
	found := map[string]bool{}
	for _, in := range inboxes {
		if err := checkInbox(in); err != nil {
			return err
		}
		qs, err := ingest.ListQuarantine(in)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if !selected(q) {
				continue
			}
			found[q.Ticket] = true
			dst, err := ingest.Retry(q)
			if err != nil {
				refused++
				p.NotRetried(stderr, q, err, retryProblem(err))
				continue
			}
			retried++
			p.Retried(q, dst)
		}
	}
	for _, t := range tickets {
		if !found[t] {
			refused++
			fmt.Fprintf(stderr, "veil: ticket %s: no file in the quarantine of %s has it\n", t, strings.Join(inboxes, ", "))
		}
	}
	p.RetrySummary(retried)
	if refused > 0 {
		return partialError{refused: refused, verb: "not retried"}
	}
	return nil
}

// retryProblem is the kind of a failed retry, which a log may carry: the
// error itself names paths.
func retryProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrExist):
		return "a file is already at its old place in the inbox"
	case errors.Is(err, ingest.ErrRetryTarget):
		return "its reason file names no place in the inbox"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return "it could not be moved"
}

// quarantineInbox returns the inbox of a path inside an inbox's quarantine.
func quarantineInbox(path string) (string, bool) {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	i := slices.Index(parts, inbox.QuarantineDir)
	if i < 0 {
		return "", false
	}
	in := filepath.FromSlash(strings.Join(parts[:i], "/"))
	if in == "" {
		in = "."
		if filepath.IsAbs(path) {
			in = string(filepath.Separator)
		}
	}
	return in, true
}

// checkInbox says which argument is not a folder, before anything is listed
// or moved.
func checkInbox(in string) error {
	fi, err := os.Stat(in)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", ui.EscapeName(in), errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("inbox %s is not a folder", ui.EscapeName(in))
	}
	return nil
}
