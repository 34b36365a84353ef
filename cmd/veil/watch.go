package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/internal/ui"
)

// WatchOptions are the flags of veil watch: those of ingest, and how often
// the whole inbox is scanned again.
type WatchOptions struct {
	IngestOptions
	Rescan time.Duration
}

func newWatchCommand() *cobra.Command {
	var opts WatchOptions
	c := &cobra.Command{
		Use:   "watch --vault DIR --out RELEASE [flags] INBOX...",
		Short: "Ingest photos as they arrive in inbox folders, until stopped",
		Args:  argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			popts, err := opts.Options(args)
			if err != nil {
				return usagef(c, "%v", err)
			}
			if opts.Rescan < time.Second {
				return usagef(c, "--rescan must be at least 1s")
			}
			return runWatch(c.Context(), opts, popts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	addPipelineFlags(f, &opts.Config, "passes")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per event, each with its time")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only problems: no summaries")
	f.DurationVar(&opts.Rescan, "rescan", 60*time.Second, "scan the whole inbox this often, for events the file system did not deliver")
	return c
}

func runWatch(ctx context.Context, opts WatchOptions, popts ingest.Options, inboxes []string, stdout, stderr io.Writer) error {
	v, err := openPipeline(opts.Vault, inboxes)
	if err != nil {
		return err
	}
	// Created now, not by the first pass, so that the watcher knows it
	// and never watches it.
	if err := os.MkdirAll(opts.Release, 0o750); err != nil {
		return fmt.Errorf("release folder %s: %v", opts.Release, filekind.Bare(err))
	}
	n, err := ingest.NewNotifier()
	if err != nil {
		return fmt.Errorf("watch: cannot watch the inbox: %w", err)
	}
	pr := &ui.Printer{JSON: opts.JSON, Quiet: opts.Quiet, Paths: ui.IsTerminal(stderr), Verbose: globalOpts.Verbose, Timed: true, Stdout: stdout, Stderr: stderr, Inboxes: inboxes}
	wopts := ingest.WatchOptions{
		Pipeline: popts,
		Rescan:   opts.Rescan,
		Command:  "veil watch",
		Notifier: n,
	}
	leftBehind := 0 // by the last pass
	total, err := ingest.Watch(ctx, v, inboxes, wopts, func(ev ingest.WatchEvent) {
		if ev.Kind == ingest.WatchPassDone {
			leftBehind = ev.Summary.LeftBehind()
		}
		pr.WatchEvent(ev, opts.Settle, opts.Rescan)
		if ev.Kind == ingest.WatchPassDone {
			refreshGallery(ctx, pr, opts.Release, opts.Gallery, ev.Summary)
		}
	})
	pr.Summary("stopped", false, total, err)
	if err == nil && leftBehind > 0 {
		return leftBehindError{n: leftBehind}
	}
	return ui.WithInboxes(err, inboxes)
}
