package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/photo"
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
		pr.File(scanOne(in, opts.Values))
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

// scanOne reads one file for runScan.
func scanOne(in stripcopy.Input, values bool) ui.ScanResult {
	r := ui.ScanResult{Path: in.Path}
	if in.Err != nil {
		r.Error = photo.Explain(in.Err)
		return r
	}
	f, fi, err := filekind.OpenRegular(in.Path)
	if err != nil {
		r.Error = photo.Explain(filekind.Bare(err))
		return r
	}
	defer f.Close()
	rep, err := photo.Scan(f, fi.Size())
	if err != nil {
		r.Error = photo.Explain(err)
		return r
	}
	return ui.NewScanResult(in.Path, rep, values)
}
