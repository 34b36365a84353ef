package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
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
		Args:  argsRange(0, 0, ""),
	}
	c.AddCommand(newQuarantineListCommand(), newQuarantineRetryCommand())
	return c
}

func newQuarantineListCommand() *cobra.Command {
	var opts QuarantineOptions
	c := &cobra.Command{
		Use:   "list INBOX... [--json] [--paths]",
		Short: "List the files in the inboxes' quarantine with their reasons",
		Args:  argsRange(1, -1, "an inbox folder"),
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
		Args:  argsRange(1, -1, "an inbox folder"),
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
		if err := ingest.CheckInbox(in); err != nil {
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

func runQuarantineRetry(c *cobra.Command, opts QuarantineOptions, args []string, stdout, stderr io.Writer) error {
	req, err := ingest.ParseRetry(args)
	if err != nil {
		return err
	}
	if len(req.Inboxes) == 0 {
		return usagef(c, "missing an inbox folder")
	}

	p := ui.NewQuarantinePrinter(stdout, opts.JSON, opts.Paths)
	retried, refused := 0, 0
	missing, err := ingest.RetryAll(req, func(q ingest.QuarantinedFile, dst string, err error) {
		if err != nil {
			refused++
			p.NotRetried(stderr, q, err, ingest.RetryProblem(err))
			return
		}
		retried++
		p.Retried(q, dst)
	})
	if err != nil {
		return err
	}
	for _, t := range missing {
		refused++
		fmt.Fprintf(stderr, "veil: ticket %s: no file in the quarantine of %s has it\n", t, strings.Join(req.Inboxes, ", "))
	}
	p.RetrySummary(retried)
	if refused > 0 {
		return partialError{refused: refused, verb: "not retried"}
	}
	return nil
}
