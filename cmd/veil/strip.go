package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/photo"
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

		Long:    helpLong("strip"),
		Example: helpExample("strip"),

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

// stripEvent is what --json prints for each file and at the end.
type stripEvent struct {
	Event       string   `json:"event"` // stripped, refused, summary
	Path        string   `json:"path,omitempty"`
	Out         string   `json:"out,omitempty"`
	Format      string   `json:"format,omitempty"`
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	Orientation int      `json:"orientation,omitempty"`
	Dropped     []string `json:"dropped,omitempty"`
	BytesIn     int64    `json:"bytes_in,omitempty"`
	BytesOut    int64    `json:"bytes_out,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Stripped    int      `json:"stripped,omitempty"`
	Refused     int      `json:"refused,omitempty"`
	Seconds     float64  `json:"seconds,omitempty"`
}

func newStripEvent(ev stripcopy.Event) stripEvent {
	if ev.Err != nil {
		return stripEvent{Event: "refused", Path: ev.Path, Reason: stripReason(ev)}
	}
	r := ev.Result
	return stripEvent{
		Event: "stripped", Path: ev.Path, Out: ev.Out, Format: r.Format.String(),
		Width: r.Width, Height: r.Height, Orientation: r.Orientation, Dropped: r.Dropped,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut,
	}
}

// stripReason says why an input was refused, with the flag that helps.
func stripReason(ev stripcopy.Event) string {
	switch {
	case errors.Is(ev.Err, stripcopy.ErrSameFile):
		return ev.Err.Error() + " (choose another -o folder)"
	case errors.Is(ev.Err, fs.ErrExist):
		return fmt.Sprintf("%s already exists (use --force to replace it)", ev.Out)
	}
	return photo.Explain(ev.Err)
}

func runStrip(ctx context.Context, opts StripOptions, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	prog := newProgress(opts.Quiet, opts.JSON)
	enc := newEventLog(stdout, "")
	sum := stripEvent{Event: "summary"}
	copyOpts := stripcopy.Options{OutDir: opts.OutDir, Workers: opts.Workers, Replace: opts.Force, NoSync: opts.NoSync}
	err := stripcopy.Run(ctx, copyOpts, args, func(e stripcopy.Event) {
		ev := newStripEvent(e)
		switch ev.Event {
		case "stripped":
			sum.Stripped++
			sum.BytesIn += ev.BytesIn
			sum.BytesOut += ev.BytesOut
			prog.add(ev.BytesIn)
		case "refused":
			sum.Refused++
			prog.add(0)
		}
		switch {
		case opts.JSON:
			enc.Encode(ev)
		case ev.Event == "refused":
			prog.println(stderr, "veil: "+oneLine(ev.Path+": "+ev.Reason))
		case !opts.Quiet && !prog.on:
			prog.println(stdout, fmt.Sprintf("%s -> %s", ev.Path, ev.Out))
		}
	})
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
	prog.done()
	sum.Seconds = time.Since(start).Seconds()
	if opts.JSON {
		enc.Encode(sum)
	} else if !opts.Quiet {
		fmt.Fprintf(stdout, "stripped %s (%s -> %s), refused %d, %.1f s\n",
			plural(sum.Stripped, "file"), humanBytes(sum.BytesIn), humanBytes(sum.BytesOut), sum.Refused, sum.Seconds)
	}
	if err != nil {
		return err
	}
	if sum.Refused > 0 {
		return partialError{refused: sum.Refused, verb: "refused"}
	}
	return nil
}
