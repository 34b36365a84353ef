package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/filekind"
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

		Long:    helpLong("scan"),
		Example: helpExample("scan"),

		Args: argsRange(1, -1, "a photo or folder to scan"),
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object per file")
	c.Flags().BoolVar(&opts.Values, "values", false, "also print the values found (may show patient data)")
	return c
}

type scanResult struct {
	Path        string          `json:"path"`
	Format      string          `json:"format,omitempty"`
	Width       int             `json:"width,omitempty"`
	Height      int             `json:"height,omitempty"`
	Orientation int             `json:"orientation,omitempty"`
	Findings    []photo.Finding `json:"findings"`
	Error       string          `json:"error,omitempty"`
	// HEIC and AVIF: the size once irot/imir are applied, and the Exif
	// orientation a reader that ignores them would follow.
	DisplayWidth    int `json:"display_width,omitempty"`
	DisplayHeight   int `json:"display_height,omitempty"`
	ExifOrientation int `json:"exif_orientation,omitempty"`
}

func runScan(ctx context.Context, opts ScanOptions, args []string, stdout, stderr io.Writer) error {
	enc := newEventLog(stdout, "scanned")
	total, withMeta, refused := 0, 0, 0
	err := stripcopy.Walk(ctx, args, "", func(in stripcopy.Input) error {
		total++
		r := scanOne(in, opts.Values)
		if r.Error != "" {
			refused++
			if !opts.JSON {
				fmt.Fprintf(stderr, "veil: %s\n", oneLine(r.Path+": "+r.Error))
				return nil
			}
		}
		if len(r.Findings) > 0 {
			withMeta++
		}
		if opts.JSON {
			if r.Findings == nil {
				r.Findings = []photo.Finding{}
			}
			enc.Encode(r)
			return nil
		}
		printScan(stdout, r)
		return nil
	})
	if err != nil {
		return err
	}
	if !opts.JSON {
		fmt.Fprintf(stdout, "scanned %s: %d carry identifying metadata, %d clean, %d unreadable\n",
			plural(total, "file"), withMeta, total-withMeta-refused, refused)
	}
	if refused > 0 {
		return partialError{refused: refused, verb: "unreadable"}
	}
	return nil
}

func scanOne(in stripcopy.Input, values bool) scanResult {
	r := scanResult{Path: in.Path}
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
	r.Format, r.Width, r.Height, r.Orientation = rep.Format.String(), rep.Width, rep.Height, rep.Orientation
	if rep.Format == photo.HEIF || rep.Format == photo.AVIF {
		r.DisplayWidth, r.DisplayHeight = rep.DisplaySize()
		r.ExifOrientation = rep.ExifOrientation
	}
	r.Findings = rep.Findings
	if !values {
		for i := range r.Findings {
			r.Findings[i].Value = ""
		}
	}
	return r
}

func printScan(w io.Writer, r scanResult) {
	state := "clean"
	if len(r.Findings) > 0 {
		state = fmt.Sprintf("%d findings", len(r.Findings))
	}
	size := fmt.Sprintf("%dx%d", r.Width, r.Height)
	orient := fmt.Sprintf("orientation %d", r.Orientation)
	if r.DisplayWidth != 0 {
		// HEIC/AVIF: rotation is a property of the container (irot/imir),
		// so say what a viewer shows, and what one that follows the Exif
		// item instead would show.
		size = fmt.Sprintf("%dx%d stored, displays %dx%d", r.Width, r.Height, r.DisplayWidth, r.DisplayHeight)
		orient += " (from irot/imir)"
		if r.ExifOrientation != 0 {
			orient += fmt.Sprintf(", Exif orientation %d (what a reader that ignores irot/imir shows)", r.ExifOrientation)
		}
	}
	fmt.Fprintf(w, "%s: %s %s, %s, %s\n", escapeName(r.Path), r.Format, size, orient, state)
	for _, cat := range photo.Categories {
		for _, f := range r.Findings {
			if f.Category != cat {
				continue
			}
			line := fmt.Sprintf("  %-10s %-13s %s", f.Category, f.Source, f.Name)
			if f.Value != "" {
				line += " = " + f.Value
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		}
	}
}
