package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
)

func newRevealCommand() *cobra.Command {
	var opts CustodianOptions
	c := &cobra.Command{
		Use:   "reveal --vault DIR --identity FILE --reason TEXT CODE...",
		Short: "Custodian: show who and what a photo or subject code stands for (logged)",

		Long:    helpLong("reveal"),
		Example: helpExample("reveal"),

		Args: argsRange(1, -1, "a photo or subject code"),
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
		logLogged(stdout, manifest.ActionReveal, len(codes), r.Grant)
	} else {
		printLogged(stderr, manifest.ActionReveal, len(codes), r.Grant)
	}
	if err := saveReceipt(stderr, opts.Receipt, r.Grant); err != nil {
		return err
	}
	failed := 0
	for _, m := range r.Matches {
		if m.Subject() && !globalOpts.JSON {
			fmt.Fprintf(stdout, "subject %s: %s\n", m.Code, plural(len(m.Photos), "photo"))
		}
		for _, p := range m.Photos {
			d, err := r.Unseal(p)
			if err != nil {
				fmt.Fprintf(stderr, "veil: photo %s: %v\n", p.Ingest.Photo, oneLine(err.Error()))
				failed++
				continue
			}
			if globalOpts.JSON {
				logRevealed(stdout, p, d)
			} else {
				printRevealed(stdout, p, d)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %s could not be unsealed (see above)", errSomeFailed, plural(failed, "photo"))
	}
	return nil
}

func printRevealed(w io.Writer, p *custody.Photo, d *custody.Revealed) {
	r := p.Ingest
	fmt.Fprintf(w, "photo %s (record %d)\n", r.Photo, p.Record)
	fmt.Fprintf(w, "  subject   %s\n", r.Subject)
	fmt.Fprintf(w, "  phase     %s\n", r.Phase)
	fmt.Fprintf(w, "  patient   %s\n", d.Detail.PatientKey)
	fmt.Fprintf(w, "  original  %s\n", d.Detail.Path)
	fmt.Fprintf(w, "  name      %s\n", d.Detail.Name)
	fmt.Fprintf(w, "  sha256    %s\n", d.Detail.SHA256)
	fmt.Fprintf(w, "  size      %d bytes, modified %s\n", d.Detail.Size, d.Detail.ModTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  released  %s (%s, %dx%d)\n", r.Released.Path, r.Format, r.Released.Width, r.Released.Height)
	for _, dup := range d.Duplicates {
		fmt.Fprintf(w, "  duplicate %s (record %d)\n", dup.Detail.Path, dup.Record)
	}
}
