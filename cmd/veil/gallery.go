package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/gallery"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/ui"
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
		Long: `gallery turns a release folder into a website to browse it: an index with one
card per subject (its code, phases and intervals, a before/after pair of
thumbnails, filters by phase and by "has a before and an after"), and a page
per subject with its photos in clinical order (before, intraop, then after and
follow-up by interval), a side-by-side and an overlay comparison of any two
photos with a slider, keyboard navigation, and each photo's code, size and a
link to the released file.

The site is made from RELEASE and its index.csv only: it never reads the vault
and needs no key, so whoever may see the release may build its gallery. It
shows nothing the release does not (codes, phase, interval, format, size).
Thumbnails (320 px) and previews (1600 px) are new JPEGs made from the
released pixels, turned upright, with no metadata at all.

Open SITE/index.html in a browser: the site is static and self-contained (no
server, nothing fetched from elsewhere, a strict Content-Security-Policy), and
works from disk as from any web server. The links to the released files are
relative: keep the site beside the release, or publish both side by side.

HEIC and AVIF photos are decoded with libheif's heif-convert when it is on
PATH (Debian/Ubuntu: apt install libheif-examples; macOS: brew install
libheif); without it they appear as a placeholder naming the format, with a
link to the released file. Run gallery again after installing it.

A second run is incremental: only photos new to the release are rendered,
and the images and pages of photos no longer released (or no longer
selected) are removed. SITE must be a new or empty folder the first time.

Exit status: 0 ok, 1 error, 2 usage, 4 some photos could not be rendered
(a damaged file, or one changed since ingest: run 'veil verify --release').`,
		Example: `  veil gallery --release /srv/release -o /srv/gallery
  veil gallery --release release -o site --phase before --phase after
  veil gallery --release release -o site --subject 3f2b1c9e-0d4a-4e8b-9c1f-2a7d5e6b8c40
  veil gallery --release release -o site --json | jq -c 'select(.event=="failed")'`,
		Args: argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Release == "" || opts.Site == "" {
				return usageError{err: errors.New("gallery: --release and -o are required"), cmd: c.CommandPath()}
			}
			if opts.Workers < 1 {
				return usageError{err: errors.New("gallery: --workers must be at least 1"), cmd: c.CommandPath()}
			}
			return runGallery(c.Context(), opts, c.OutOrStdout(), c.ErrOrStderr(), c.CommandPath())
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

func runGallery(ctx context.Context, opts GalleryOptions, stdout, stderr io.Writer, cmdPath string) error {
	start := time.Now()
	gopts := gallery.Options{Release: opts.Release, Site: opts.Site, Phases: opts.Phases, Workers: opts.Workers}
	for _, s := range opts.Subjects {
		c, err := code.Parse(s)
		if err != nil {
			return usageError{err: fmt.Errorf("gallery: --subject %q is not a subject code", s), cmd: cmdPath}
		}
		gopts.Subjects = append(gopts.Subjects, c)
	}
	for _, p := range opts.Phases {
		switch p {
		case "before", "intraop", "after", "followup":
		default:
			return usageError{err: fmt.Errorf("gallery: --phase %q: use before, intraop, after or followup", p), cmd: cmdPath}
		}
	}
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
