package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/manifest"
)

// RestoreOptions are the flags of veil restore.
type RestoreOptions struct {
	CustodianOptions
	Out string
}

func newRestoreCommand() *cobra.Command {
	var opts RestoreOptions
	c := &cobra.Command{
		Use:   "restore --vault DIR --identity FILE --reason TEXT -o DIR CODE...",
		Short: "Custodian: decrypt the originals of photo or subject codes (logged)",
		Args:  argsRange(1, -1, "a photo or subject code"),
		RunE: func(c *cobra.Command, args []string) error {
			codes, err := checkCustodianArgs(c, opts.CustodianOptions, args)
			if err != nil {
				return err
			}
			if opts.Out == "" {
				return usagef(c, "-o DIR is required")
			}
			return runRestore(c.Context(), opts, codes, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts.CustodianOptions)
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "`DIR` to write the originals to (created, mode 0700)")
	return c
}

func runRestore(ctx context.Context, opts RestoreOptions, codes []code.Code, stdout, stderr io.Writer) error {
	// Fail on an unusable output folder before anything is logged.
	if err := os.MkdirAll(opts.Out, 0o700); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	cv, id, pinned, err := openCustody(opts.CustodianOptions)
	if err != nil {
		return err
	}
	r, err := cv.Restore(ctx, id, custody.Request{Codes: codes, Reason: opts.Reason, Pinned: pinned}, opts.Out)
	if err != nil {
		return custodyError(err, opts.CustodianOptions, stderr)
	}
	pr := ui.CustodianPrinter{Stdout: stdout, Stderr: stderr, JSON: globalOpts.JSON, Quiet: globalOpts.Quiet}
	pr.Logged(manifest.ActionRestore, len(codes), r.Grant)
	if err := saveReceipt(stderr, opts.Receipt, r.Grant.Record, r.Grant.Receipt); err != nil {
		return err
	}
	photos := r.Photos()
	failed := 0
	for _, p := range photos {
		if err := ctx.Err(); err != nil {
			return err
		}
		path, size, err := r.WriteOriginal(p)
		if err != nil {
			pr.Failed(p, err)
			failed++
			continue
		}
		pr.Restored(p, path, size)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %s could not be restored (see above)", errSomeFailed, failed, ui.Plural(len(photos), "original"))
	}
	return nil
}
