package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/photo"
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

Directories are walked recursively (hidden files skipped) and the copies keep
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
	f.BoolVar(&opts.Quiet, "quiet", false, "print only refusals and the summary")
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

	pending *atomicfile.Pending // the copy, written but not yet published
	fatal   error               // the output folder cannot take more files: stop the run
}

func runStrip(ctx context.Context, opts StripOptions, args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot create output folder: %v", opts.OutDir, pathError(err))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	files := make(chan inputFile, 64)
	results := make(chan stripEvent, 64)
	walkErr := make(chan error, 1)
	go func() { walkErr <- walkInputs(ctx, args, opts.OutDir, files) }()

	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for in := range files {
				if ctx.Err() != nil {
					continue // stopping: drain the walk without doing work
				}
				results <- stripOne(in, opts)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	prog := newProgress(opts.Quiet, opts.JSON)
	enc := json.NewEncoder(stdout)
	sum := stripEvent{Event: "summary"}
	report := func(ev stripEvent) {
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
	}
	// Group commit: copies wait in batch until one file-system sync has made
	// their data durable; only then do they get their final names.
	var batch []stripEvent
	var fatal error
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var syncErr error
		if !opts.NoSync {
			syncErr = atomicfile.SyncFS(opts.OutDir)
		}
		for _, ev := range batch {
			if syncErr != nil {
				ev.pending.Discard()
				report(stripEvent{Event: "refused", Path: ev.Path, Reason: fmt.Sprintf("cannot flush %s to disk: %v", ev.Out, syncErr)})
				continue
			}
			if err := ev.pending.Publish(!opts.Force); err != nil {
				reason := fmt.Sprintf("cannot write %s: %v", ev.Out, pathError(err))
				if errors.Is(err, fs.ErrExist) {
					reason = fmt.Sprintf("%s already exists (use --force to replace it)", ev.Out)
				}
				report(stripEvent{Event: "refused", Path: ev.Path, Reason: reason})
				continue
			}
			report(ev)
		}
		batch = batch[:0]
	}
	for {
		ev, ok := <-results
		if !ok {
			break
		}
		switch {
		case ev.fatal != nil:
			if fatal == nil {
				fatal = ev.fatal
				cancel()
			}
		case ev.pending != nil:
			batch = append(batch, ev)
		default:
			report(ev)
		}
		// Flush when the batch is full or nothing else is ready right now.
		if len(batch) >= 64 || len(results) == 0 {
			flush()
		}
	}
	flush()
	if !opts.NoSync && sum.Stripped > 0 {
		// The renames themselves must survive a crash too.
		if err := atomicfile.SyncFS(opts.OutDir); err != nil {
			fatal = fmt.Errorf("%s: cannot flush to disk: %v", opts.OutDir, err)
		}
	}
	if ctx.Err() != nil && fatal == nil {
		fatal = fmt.Errorf("interrupted; the copies already written are complete")
	}
	prog.done()
	if err := <-walkErr; err != nil && !errors.Is(err, context.Canceled) && fatal == nil {
		fatal = err
	}
	sum.Seconds = time.Since(start).Seconds()
	if opts.JSON {
		enc.Encode(sum)
	} else {
		fmt.Fprintf(stdout, "stripped %s (%s -> %s), refused %d, %.1f s\n",
			plural(sum.Stripped, "file"), humanBytes(sum.BytesIn), humanBytes(sum.BytesOut), sum.Refused, sum.Seconds)
	}
	if fatal != nil {
		return fatal
	}
	if sum.Refused > 0 {
		return partialError{refused: sum.Refused, verb: "refused"}
	}
	return nil
}

// stripOne strips one file into OUTDIR under its relative name.
func stripOne(in inputFile, opts StripOptions) stripEvent {
	refuse := func(err error) stripEvent {
		ev := stripEvent{Event: "refused", Path: in.path, Reason: explain(err)}
		if outputFull(err) {
			ev.fatal = fmt.Errorf("%s: %v; stopped (the copies already written are complete; make room and run again with the same -o)", opts.OutDir, pathError(err))
		}
		return ev
	}
	if in.err != nil {
		return refuse(in.err)
	}
	src, size, err := openPhoto(in.path)
	if err != nil {
		return refuse(err)
	}
	defer src.Close()
	target := filepath.Join(opts.OutDir, in.rel)
	if fi, err := os.Stat(target); err == nil {
		if sfi, err := src.Stat(); err == nil && os.SameFile(fi, sfi) {
			return refuse(errors.New("output would overwrite the input (choose another -o folder)"))
		}
		if !opts.Force {
			return refuse(fmt.Errorf("%s already exists (use --force to replace it)", target))
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return refuse(pathError(err))
	}
	out, err := atomicfile.Create(target, 0o644)
	if err != nil {
		return refuse(fmt.Errorf("cannot write to %s: %v", filepath.Dir(target), pathError(err)))
	}
	defer out.Abort()
	res, err := photo.Strip(out, src, size)
	if err != nil {
		return refuse(err)
	}
	pending, err := out.Close()
	if err != nil {
		return refuse(fmt.Errorf("cannot write %s: %v", target, pathError(err)))
	}
	return stripEvent{
		pending: pending,
		Event:   "stripped", Path: in.path, Out: target, Format: res.Format.String(),
		Width: res.Width, Height: res.Height, Orientation: res.Orientation, Dropped: res.Dropped,
		BytesIn: res.BytesIn, BytesOut: res.BytesOut,
	}
}

// outputFull reports whether a write failed because the output file system
// cannot take more data; every further file would fail the same way.
func outputFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EROFS)
}
