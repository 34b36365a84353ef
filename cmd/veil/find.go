package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/ui"
)

// FindOptions are the flags of veil find.
type FindOptions struct {
	CustodianOptions
	JSON bool
}

func newFindCommand() *cobra.Command {
	var opts FindOptions
	c := &cobra.Command{
		Use:   "find --vault DIR --identity FILE --reason TEXT NAME-OR-ID...",
		Short: "Custodian: find the subject and photo codes of a patient by name or ID (logged)",
		Args:  argsRange(1, -1, "a patient name or ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := checkCustodianArgs(c, opts.CustodianOptions, nil); err != nil {
				return err
			}
			return runFind(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts.CustodianOptions)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per query (it holds the patient names searched and found)")
	return c
}

func runFind(ctx context.Context, opts FindOptions, queries []string, stdout, stderr io.Writer) error {
	cv, id, pinned, err := openCustody(opts.CustodianOptions)
	if err != nil {
		return err
	}
	f, err := cv.Find(ctx, id, custody.FindRequest{Queries: queries, Reason: opts.Reason, Pinned: pinned})
	if err != nil {
		return custodyError(err, opts.CustodianOptions, stderr)
	}
	ui.PrintFindLogged(stderr, len(queries), f)
	if err := saveReceipt(stderr, opts.Receipt, f.Record, f.Receipt); err != nil {
		return err
	}
	return ui.PrintAnswers(stdout, f.Answers, opts.JSON)
}
