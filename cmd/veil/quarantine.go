package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
)

// QuarantineOptions are the flags of veil quarantine list and retry.
type QuarantineOptions struct {
	JSON  bool
	Paths bool
}

const quarantinePHI = `Quarantined files are named by their inbox paths, which hold patients' names.
On a terminal, veil shows the paths and what went wrong. With --json, or when
the output is not a terminal (a log, cron mail, a pipe), each file is named
only by its inbox folder, its ticket (the one the ingest logs named it by,
also in its reason file) and its reason category, as the logs of ingest and
watch do. --paths shows paths and explanations there too: use it only where
the output stays with staff.`

func newQuarantineCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "quarantine",
		Short: "List the files in an inbox's quarantine, or move fixed ones back into the inbox",
		Long: `A file that veil cannot take goes to INBOX/.quarantine/<same path>, with a
<file>.reason.txt beside it that says why and where it was. quarantine list
shows them; quarantine retry moves them back to where they were, for the next
run to take, once the problem is fixed (a phase alias added, a damaged copy
replaced, a look-alike name resolved).

` + quarantinePHI,
		Example: `  veil quarantine list /srv/inbox
  veil quarantine retry /srv/inbox q-3fa94c01d2`,
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
		Long: `list shows each file in INBOX/.quarantine: where it was in the inbox, the
reason category and what exactly went wrong (from its reason file), when it
was quarantined, and its ticket. A file without a reason file of veil's (put
there by hand) is listed with reason "unknown".

` + quarantinePHI + `

Exit status: 0 ok (also when the quarantine is empty), 1 error, 2 usage.`,
		Example: `  veil quarantine list /srv/inbox
  veil quarantine list --json /srv/inbox /srv/inbox-ward2 | jq -r .ticket`,
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
		Long: `retry moves quarantined files back to where their reason file says they were
in the inbox, and removes the reason file, so that the next ingest or watch
pass takes them again. Fix the problem first: a file retried unchanged is
quarantined again.

Arguments are inbox folders (retry all of their quarantine), and optionally
which files: a path in an inbox's .quarantine (a file, or a folder of them)
or a ticket (q-...) from the logs. retry never replaces a file: if something
is already at the old place (the photo was copied in again), that file stays
in quarantine and is reported. It does not need the vault.

` + quarantinePHI + `

Exit status: 0 all retried, 1 error, 2 usage, 4 some files could not be retried
(each is reported).`,
		Example: `  veil quarantine retry /srv/inbox
  veil quarantine retry /srv/inbox q-3fa94c01d2
  veil quarantine retry "/srv/inbox/.quarantine/Jane Doe/post op"`,
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
		out.Error = ingest.RetryProblem(err)
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
		if err := ingest.CheckInbox(in); err != nil {
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

func runQuarantineRetry(c *cobra.Command, opts QuarantineOptions, args []string, stdout, stderr io.Writer) error {
	req, err := ingest.ParseRetry(args)
	if err != nil {
		return err
	}
	if len(req.Inboxes) == 0 {
		return usageError{err: errors.New("retry: missing an inbox folder"), cmd: c.CommandPath()}
	}

	p := newQuarantinePrinter(opts, stdout)
	retried, refused := 0, 0
	missing, err := ingest.RetryAll(req, func(q ingest.QuarantinedFile, dst string, err error) {
		switch {
		case err != nil:
			refused++
			if opts.JSON {
				p.object("not_retried", q, "", err)
			} else if p.paths {
				fmt.Fprintf(stderr, "veil: %s: not retried: %s\n", p.name(q), escapeName(oneLine(err.Error())))
			} else {
				fmt.Fprintf(stderr, "veil: %s: not retried (%s)\n", p.name(q), ingest.RetryProblem(err))
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
	})
	if err != nil {
		return err
	}
	for _, t := range missing {
		refused++
		fmt.Fprintf(stderr, "veil: ticket %s: no file in the quarantine of %s has it\n", t, strings.Join(req.Inboxes, ", "))
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
