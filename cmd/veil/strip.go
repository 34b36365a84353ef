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
		Long: `strip writes a copy of each photo with its identifying metadata removed:
EXIF (GPS, dates, device serials, maker notes, thumbnails), XMP, IPTC,
comments, text chunks and anything after the end of the image. The image data
is copied byte for byte, never re-encoded; the orientation and colour profile
are kept. Formats: JPEG, PNG, WebP, HEIC (iPhone) and AVIF ('veil version'
lists them).

Directories are walked recursively, skipping what ingest skips (hidden files,
copies in progress, system files such as Thumbs.db), and the copies keep
their relative names under OUTDIR. Inputs are never modified or overwritten;
an existing output is refused unless --force is given. Each copy is written to
a temporary file, checked by re-parsing, and only then renamed into place.
Copies are made durable in batches (one file-system sync per batch, before
the batch is renamed into place), so a copy that has its final name is
complete even after a power cut; --no-sync skips this, like cp.

strip does not touch a vault and assigns no codes: it is for one-off use and
pipelines. For the coded, logged workflow use 'veil ingest'.

Files that cannot be stripped (damaged, unsupported format such as TIFF) are
listed with the reason and veil exits with status 4.`,
		Example: `  veil strip -o clean/ IMG_0001.jpg IMG_0002.png
  veil strip -o /srv/release/batch7 --workers 4 ~/inbox/batch7
  veil strip -o out/ --json photos/ | jq -r 'select(.event=="refused") | .path'`,
		Args: argsRange(1, -1, "a photo or folder to strip"),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.OutDir == "" {
				return usageError{err: errors.New("strip: -o OUTDIR is required"), cmd: c.CommandPath()}
			}
			if opts.Workers < 1 {
				return usageError{err: errors.New("strip: --workers must be at least 1"), cmd: c.CommandPath()}
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
