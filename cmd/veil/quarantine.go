package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
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

// quarantineJSON is the --json form of a quarantined file.
type quarantineJSON struct {
	Event   string    `json:"event"` // "quarantined", "retried", "not_retried"
	Inbox   string    `json:"inbox"`
	Ticket  string    `json:"ticket,omitempty"`
	Reason  string    `json:"reason"`
	Bytes   int64     `json:"bytes"`
	Since   time.Time `json:"since"`
	Path    string    `json:"path,omitempty"`    // with --paths
	From    string    `json:"from,omitempty"`    // with --paths
	Message string    `json:"message,omitempty"` // with --paths
	To      string    `json:"to,omitempty"`      // retried, with --paths
	Error   string    `json:"error,omitempty"`   // not_retried: the kind of problem, or with --paths the error
}

// quarantinePrinter prints quarantined files for staff at a terminal, or
// for a log without paths.
type quarantinePrinter struct {
	w     io.Writer
	json  bool
	paths bool // paths and explanations may be shown
}

func newQuarantinePrinter(opts QuarantineOptions, w io.Writer) *quarantinePrinter {
	return &quarantinePrinter{w: w, json: opts.JSON, paths: opts.Paths || !opts.JSON && isTerminal(w)}
}

func (p *quarantinePrinter) object(event string, q ingest.QuarantinedFile, to string, err error) {
	out := quarantineJSON{Event: event, Inbox: q.Inbox, Ticket: q.Ticket, Reason: q.Reason, Bytes: q.Size, Since: q.Since.UTC()}
	if p.paths {
		out.Path, out.From, out.Message, out.To = q.Path, q.Rel, q.Why, to
	}
	if err != nil {
		out.Error = retryProblem(err)
		if p.paths {
			out.Error = oneLine(err.Error())
		}
	}
	json.NewEncoder(p.w).Encode(out)
}

// name is how a line names a file: its quarantine path on a terminal, else
// its inbox and ticket.
func (p *quarantinePrinter) name(q ingest.QuarantinedFile) string {
	if p.paths {
		return escapeName(q.Path)
	}
	t := "without a ticket"
	if q.Ticket != "" {
		t = "ticket " + q.Ticket
	}
	return fmt.Sprintf("a file in %s (%s, %s)", escapeName(q.Inbox), q.Reason, t)
}

func (p *quarantinePrinter) listed(q ingest.QuarantinedFile) {
	if p.json {
		p.object("quarantined", q, "", nil)
		return
	}
	when := q.Since.Local().Format("2006-01-02 15:04")
	if !p.paths {
		fmt.Fprintf(p.w, "%s, quarantined %s, %s\n", p.name(q), when, plural(int(q.Size), "byte"))
		return
	}
	fmt.Fprintln(p.w, p.name(q))
	fmt.Fprintf(p.w, "  %s: %s\n", q.Reason, escapeName(oneLine(q.Why)))
	from := "from " + escapeName(q.Rel)
	if q.Unknown {
		from = "no reason file of veil's: retry puts it at " + escapeName(q.Rel)
	}
	ticket := ""
	if q.Ticket != "" {
		ticket = ", ticket " + q.Ticket
	}
	fmt.Fprintf(p.w, "  %s, quarantined %s%s\n", from, when, ticket)
}

func runQuarantineList(opts QuarantineOptions, inboxes []string, stdout io.Writer) error {
	p := newQuarantinePrinter(opts, stdout)
	reasons := map[string]int{}
	total := 0
	for _, in := range inboxes {
		if err := checkInbox(in); err != nil {
			return err
		}
		qs, err := ingest.ListQuarantine(in)
		if err != nil {
			return err
		}
		for _, q := range qs {
			p.listed(q)
			reasons[q.Reason]++
			total++
		}
	}
	if opts.JSON {
		return nil
	}
	var parts []string
	for r, n := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, n))
	}
	slices.Sort(parts)
	summary := plural(total, "file") + " in quarantine"
	if total > 0 {
		summary += " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintln(stdout, summary)
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

	p := newQuarantinePrinter(opts, stdout)
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
			switch {
			case err != nil:
				refused++
				if opts.JSON {
					p.object("not_retried", q, "", err)
				} else if p.paths {
					fmt.Fprintf(stderr, "veil: %s: not retried: %s\n", p.name(q), escapeName(oneLine(err.Error())))
				} else {
					fmt.Fprintf(stderr, "veil: %s: not retried (%s)\n", p.name(q), retryProblem(err))
				}
			case opts.JSON:
				retried++
				p.object("retried", q, dst, nil)
			default:
				retried++
				if p.paths {
					fmt.Fprintf(stdout, "retried %s: back at %s\n", p.name(q), escapeName(dst))
				} else {
					fmt.Fprintf(stdout, "retried %s\n", p.name(q))
				}
			}
		}
	}
	for _, t := range tickets {
		if !found[t] {
			refused++
			fmt.Fprintf(stderr, "veil: ticket %s: no file in the quarantine of %s has it\n", t, strings.Join(inboxes, ", "))
		}
	}
	if !opts.JSON {
		next := ""
		if retried > 0 {
			next = "; the next run takes them"
		}
		fmt.Fprintf(stdout, "retried %s%s\n", plural(retried, "file"), next)
	}
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
		return fmt.Errorf("inbox %s: %w", escapeName(in), errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("inbox %s is not a folder", escapeName(in))
	}
	return nil
}
