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
	cv, id, err := openCustody(opts)
	if err != nil {
		return err
	}
	r, err := cv.Reveal(ctx, id, custody.Request{Codes: codes, Reason: opts.Reason})
	if err != nil {
		return custodyError(err, opts, stderr)
	}
	if globalOpts.JSON {
		ui.LogLogged(stdout, manifest.ActionReveal, len(codes), r.Grant)
	} else {
		ui.PrintLogged(stderr, manifest.ActionReveal, len(codes), r.Grant)
	}
	if err := saveReceipt(stderr, opts.Receipt, r.Grant); err != nil {
		return err
	}
	failed := 0
	for _, m := range r.Matches {
		if m.Subject() && !globalOpts.JSON {
			fmt.Fprintf(stdout, "subject %s: %s\n", m.Code, ui.Plural(len(m.Photos), "photo"))
		}
		for _, p := range m.Photos {
			d, err := r.Unseal(p)
			if err != nil {
				fmt.Fprintf(stderr, "veil: photo %s: %v\n", p.Ingest.Photo, ui.OneLine(err.Error()))
				failed++
				continue
			}
			if globalOpts.JSON {
				ui.LogRevealed(stdout, p, d)
			} else {
				ui.PrintRevealed(stdout, p, d)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %s could not be unsealed (see above)", errSomeFailed, ui.Plural(failed, "photo"))
	}
	return nil
}
