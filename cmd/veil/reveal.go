package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/manifest"
)

func newRevealCommand() *cobra.Command {
	var opts CustodianOptions
	c := &cobra.Command{
		Use:   "reveal --vault DIR --identity FILE --reason TEXT CODE...",
		Short: "Custodian: show who and what a photo or subject code stands for (logged)",
		Args:  argsRange(1, -1, "a photo or subject code"),
		RunE: func(c *cobra.Command, args []string) error {
			codes, err := checkCustodianArgs(c, opts, args)
			if err != nil {
				return err
			}
			return runReveal(c.Context(), opts, codes, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts)
	return c
}

func runReveal(ctx context.Context, opts CustodianOptions, codes []code.Code, stdout, stderr io.Writer) error {
	cv, id, pinned, err := openCustody(opts)
	if err != nil {
		return err
	}
	r, err := cv.Reveal(ctx, id, custody.Request{Codes: codes, Reason: opts.Reason, Pinned: pinned})
	if err != nil {
		return custodyError(err, opts, stderr)
	}
	// What reveal prints is its answer: --quiet drops none of it.
	pr := ui.CustodianPrinter{Stdout: stdout, Stderr: stderr, JSON: globalOpts.JSON}
	pr.Logged(manifest.ActionReveal, len(codes), r.Grant)
	if err := saveReceipt(stderr, opts.Receipt, r.Grant.Record, r.Grant.Receipt); err != nil {
		return err
	}
	failed := 0
	for _, m := range r.Matches {
		if m.Subject() {
			pr.Subject(m)
		}
		for _, p := range m.Photos {
			d, err := r.Unseal(p)
			if err != nil {
				pr.Failed(p, err)
				failed++
				continue
			}
			pr.Revealed(p, d)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %s could not be unsealed (see above)", errSomeFailed, ui.Plural(failed, "photo"))
	}
	return nil
}
