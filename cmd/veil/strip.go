package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/stripcopy"
)

// StripOptions are the flags of veil strip.
type StripOptions struct {
	OutDir  string
	Workers int
	Force   bool
	NoSync  bool
	JSON    bool
	Quiet   bool
}

func newStripCommand() *cobra.Command {
	var opts StripOptions
	c := &cobra.Command{
		Use:   "strip -o OUTDIR PATH...",
		Short: "Write stripped copies of photos (no vault, no codes)",
		Args:  argsRange(1, -1, "a photo or folder to strip"),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.OutDir == "" {
				return usagef(c, "-o OUTDIR is required")
			}
			if opts.Workers < 1 {
				return usagef(c, "--workers must be at least 1")
			}
			return runStrip(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVarP(&opts.OutDir, "out", "o", "", "folder to write the stripped copies to (created if missing)")
	f.IntVar(&opts.Workers, "workers", defaultWorkers(), "files stripped in parallel")
	f.BoolVar(&opts.Force, "force", false, "replace existing files in OUTDIR")
	f.BoolVar(&opts.NoSync, "no-sync", false, "do not flush copies to disk (faster; a power cut may leave incomplete copies)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per file and a summary object, no progress")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only refusals: no summary")
	return c
}

func runStrip(ctx context.Context, opts StripOptions, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	prog := ui.NewProgress(os.Stderr, !opts.Quiet && !opts.JSON && ui.IsTerminal(os.Stderr))
	pr := ui.NewStripPrinter(stdout, stderr, opts.JSON, opts.Quiet, prog)
	copyOpts := stripcopy.Options{OutDir: opts.OutDir, Workers: opts.Workers, Replace: opts.Force, NoSync: opts.NoSync}
	err := stripcopy.Run(ctx, copyOpts, args, pr.File)
	var de *stripcopy.DirError
	switch {
	case errors.As(err, &de) && de.Op == "mkdir":
		return fmt.Errorf("%s: cannot create output folder: %v", de.Dir, de.Err)
	case errors.As(err, &de) && de.Op == "sync":
		err = fmt.Errorf("%s: cannot flush to disk: %v", de.Dir, de.Err)
	case errors.As(err, &de):
		err = fmt.Errorf("%s: %v; stopped (the copies already written are complete; make room and run again with the same -o)", de.Dir, filekind.Bare(de.Err))
	case err != nil && ctx.Err() != nil:
		err = errors.New("interrupted; the copies already written are complete")
	}
	prog.Done()
	pr.Summary(time.Since(start).Seconds())
	if err != nil {
		return err
	}
	if n := pr.Refused(); n > 0 {
		return partialError{refused: n, verb: "refused"}
	}
	return nil
}
