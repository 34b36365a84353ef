package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/gallery"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
)

// GalleryOptions are the flags of veil gallery.
type GalleryOptions struct {
	Release  string
	Site     string
	Subjects []string
	Phases   []string
	Workers  int
	JSON     bool
	Quiet    bool
}

func newGalleryCommand() *cobra.Command {
	var opts GalleryOptions
	c := &cobra.Command{
		Use:   "gallery --release DIR -o SITE [--subject CODE...] [--phase PHASE...]",
		Short: "Build a static before/after gallery of a release folder (codes only; no vault, no key)",
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case opts.Release == "" || opts.Site == "":
				return usagef(c, "--release and -o are required")
			case opts.Workers < 1:
				return usagef(c, "--workers must be at least 1")
			}
			gopts := gallery.Options{Release: opts.Release, Site: opts.Site, Phases: opts.Phases, Workers: opts.Workers}
			for _, s := range opts.Subjects {
				sc, err := code.Parse(s)
				if err != nil {
					return usagef(c, "--subject %q is not a subject code", s)
				}
				gopts.Subjects = append(gopts.Subjects, sc)
			}
			for _, p := range opts.Phases {
				if !slices.Contains(manifest.Phases, p) {
					return usagef(c, "--phase %q: use before, intraop, after or followup", p)
				}
			}
			return runGallery(c.Context(), opts, gopts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Release, "release", "", "the release `DIR` (holds index.csv)")
	f.StringVarP(&opts.Site, "out", "o", "", "the site `DIR` to create or update")
	f.StringSliceVar(&opts.Subjects, "subject", nil, "only this subject `CODE` (repeatable)")
	f.StringSliceVar(&opts.Phases, "phase", nil, "only photos of this `PHASE`: before, intraop, after, followup (repeatable)")
	f.IntVar(&opts.Workers, "workers", defaultWorkers(), "photos rendered in parallel (one decoded photo each)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per photo and a summary object, no progress")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only failures: no summary")
	return c
}

func runGallery(ctx context.Context, opts GalleryOptions, gopts gallery.Options, stdout, stderr io.Writer) error {
	start := time.Now()
	gopts.HEIFConvert = heifConvertPath()

	prog := ui.NewProgress(os.Stderr, !opts.Quiet && !opts.JSON && ui.IsTerminal(os.Stderr))
	pr := ui.NewGalleryPrinter(stdout, stderr, opts.JSON, opts.Quiet, gopts.HEIFConvert == "", prog)
	st, err := gallery.Build(ctx, gopts, pr.Photo)
	prog.Done()
	if err != nil {
		return galleryError(err)
	}
	pr.Summary(opts.Site, st, time.Since(start).Seconds())
	if st.Failed > 0 {
		return partialError{refused: st.Failed, verb: "not rendered"}
	}
	return nil
}

// heifConvertPath is libheif's heif-convert when it is on PATH, for
// gallery.Options.HEIFConvert (the library never reads the environment);
// empty shows HEIC and AVIF photos as placeholders.
func heifConvertPath() string {
	p, err := exec.LookPath("heif-convert")
	if err != nil {
		return ""
	}
	return p
}

// galleryError adds what to do when the release folder is not one.
func galleryError(err error) error {
	var re *release.RowError
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, release.ErrHeader) || errors.As(err, &re) {
		return fmt.Errorf("%w (is --release a veil release folder?)", err)
	}
	return err
}
