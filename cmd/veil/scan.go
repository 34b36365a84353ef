package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/stripcopy"
)

// ScanOptions are the flags of veil scan.
type ScanOptions struct {
	JSON   bool
	Values bool
}

func newScanCommand() *cobra.Command {
	var opts ScanOptions
	c := &cobra.Command{
		Use:   "scan [--json] PATH...",
		Short: "List the identifying metadata each photo carries (read-only)",
		Args:  argsRange(1, -1, "a photo or folder to scan"),
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per file")
	c.Flags().BoolVar(&opts.Values, "values", false, "also print the values found (may show patient data)")
	return c
}

func runScan(ctx context.Context, opts ScanOptions, args []string, stdout, stderr io.Writer) error {
	pr := ui.NewScanPrinter(stdout, stderr, opts.JSON)
	err := stripcopy.Walk(ctx, args, "", func(in stripcopy.Input) error {
		rep, err := in.Scan()
		pr.File(ui.NewScanResult(in.Path, rep, err, opts.Values))
		return nil
	})
	if err != nil {
		return err
	}
	pr.Summary()
	if n := pr.Unreadable(); n > 0 {
		return partialError{refused: n, verb: "unreadable"}
	}
	return nil
}
