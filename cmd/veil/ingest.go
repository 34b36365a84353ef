package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/layout"
	"github.com/veil-photo/veil/internal/crashpoint"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/vault"
)

// IngestOptions are the flags of veil ingest.
type IngestOptions struct {
	ingest.Config // the flags watch shares
	Wait          time.Duration
	DryRun        bool
	JSON          bool
	Quiet         bool
}

// crashEnv names the test-only environment variable that makes veil ingest
// kill itself with SIGKILL just before a step of the commit order:
// "step" or "step:N" (the Nth time, counting from 1). The crash trials set
// it; it is read here only, never by the ingest package.
const crashEnv = "VEIL_TEST_CRASH_AT"

func newIngestCommand() *cobra.Command {
	var opts IngestOptions
	c := &cobra.Command{
		Use:   "ingest --vault DIR --out RELEASE [flags] INBOX...",
		Short: "Take photos from inbox folders into the vault, the release folder and the log",
		Args:  argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			popts, err := opts.Options(args)
			if err != nil {
				return usagef(c, "%v", err)
			}
			return runIngest(c.Context(), opts, popts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	addPipelineFlags(f, &opts.Config, "runs")
	f.DurationVar(&opts.Wait, "wait", 10*time.Minute, "if another veil (watch, reveal) holds the vault lock, wait this long for it (0: fail at once)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "report what would happen and change nothing")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per event and a summary, no progress")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on success: only problems, no summary")
	return c
}

// addPipelineFlags registers the flags that ingest and watch share. later
// says what comes after this run ("runs" or "passes").
func addPipelineFlags(f *pflag.FlagSet, opts *ingest.Config, later string) {
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault (see 'veil init')")
	f.StringVar(&opts.Release, "out", "", "release folder `RELEASE` for the coded, stripped photos (created if missing)")
	f.StringVar(&opts.Layout, "layout", layout.DefaultLayout, "how patient and phase are read from a file's path under the inbox (see above; new installs: '"+layout.IDLayout+"')")
	f.StringArrayVar(&opts.PhaseAlias, "phase-alias", nil, "`WORD=PHASE[:INTERVAL]`: a phase word of this practice, as recheck=followup:P6W or vorher=before (repeatable)")
	f.IntVar(&opts.Workers, "workers", defaultWorkers(), "files hashed, encrypted and stripped in parallel")
	f.BoolVar(&opts.KeepSource, "keep-source", false, "leave ingested photos in the inbox (later "+later+" skip them)")
	f.DurationVar(&opts.Settle, "settle", 2*time.Second, "take a file only once its size and mtime have not changed for this long")
	f.StringVar(&opts.MaxSize, "max-size", "200MB", "quarantine files larger than this (bytes, or with kB, MB, GB)")
	f.StringVar(&opts.Gallery, "gallery", "", "keep the before/after gallery in `SITE` up to date after each run that released photos (see veil gallery)")
	f.StringVar(&opts.State, "state", "", "this host's state `DIR`, outside the vault (e.g. /var/lib/veil): pins the vault, its log key and its log, so that a vault replaced or rolled back is refused")
	f.StringArrayVar(&opts.Exclude, "exclude", ingest.DefaultExclude, "skip files and folders whose name or path under the inbox matches this `PATTERN` (* ? [a-z]; case ignored); repeatable; giving it replaces the default, the sidecars of iPhone exports (--exclude '' skips nothing)")
}

// openPipeline opens the vault and checks the inboxes for ingest and watch.
func openPipeline(dir string, inboxes []string) (*vault.Vault, error) {
	v, err := vault.Open(dir)
	if err != nil {
		return nil, err
	}
	for _, in := range inboxes {
		fi, err := os.Stat(in)
		if err != nil {
			return nil, fmt.Errorf("inbox %s: %v", in, filekind.Bare(err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("inbox %s is not a folder; give the folder staff put photos in", in)
		}
	}
	return v, nil
}

func runIngest(ctx context.Context, opts IngestOptions, popts ingest.Options, inboxes []string, stdout, stderr io.Writer) error {
	v, err := openPipeline(opts.Vault, inboxes)
	if err != nil {
		return err
	}
	pr := &ui.Printer{JSON: opts.JSON, Quiet: opts.Quiet, Paths: ui.IsTerminal(stderr), Verbose: globalOpts.Verbose, Stdout: stdout, Stderr: stderr, Inboxes: inboxes}
	// note prints what only a person at the terminal needs to know.
	note := func(text string) {
		if !opts.Quiet && !opts.JSON {
			pr.Problem("", text)
		}
	}
	var lock *vault.Lock // none in a dry run, which changes nothing
	if !opts.DryRun {
		// veil watch takes the lock for a few seconds per pass, so the
		// nightly run waits its turn rather than failing.
		lock, err = vault.WaitLock(ctx, opts.Vault, "veil ingest", opts.Wait, func(le *vault.LockedError) {
			pr.Waiting("", fmt.Sprintf("%v; waiting up to %v", le, opts.Wait))
		})
		if err != nil {
			var le *vault.LockedError
			if errors.As(err, &le) && !le.Stale {
				return fmt.Errorf("%w; gave up after --wait %v (run again later, or give a longer --wait)", err, opts.Wait)
			}
			return err
		}
		defer lock.Release()
		if s := lock.Stale(); s != nil {
			note(fmt.Sprintf("warning: the previous writer %v did not finish; cleaning up after it", s))
		}
	}
	popts.DryRun = opts.DryRun
	if spec := os.Getenv(crashEnv); spec != "" {
		step, nth, err := crashpoint.Parse(spec)
		if err != nil {
			return fmt.Errorf("%s=%w", crashEnv, err)
		}
		popts.Hook = crashpoint.Hook(step, nth)
	}
	p, err := ingest.New(v, lock, popts)
	if err != nil {
		return err
	}
	defer p.Close()
	if m := p.FirstPinned(); m != "" {
		note(m)
	}
	if n := len(p.Cleaned()); n > 0 {
		note(fmt.Sprintf("removed %d leftovers of an interrupted run (unlogged blobs or released files, temporary files)", n))
	}

	pr.Progress = ui.NewIngestProgress(os.Stderr, !opts.Quiet && !opts.JSON && ui.IsTerminal(os.Stderr), inboxes)
	sum, runErr := p.Run(ctx, inboxes, pr.File)
	pr.Progress.Done()
	if err := p.Close(); err != nil && runErr == nil {
		runErr = err
	}
	pr.Summary("summary", opts.DryRun, sum, runErr)
	if !opts.DryRun {
		refreshGallery(ctx, pr, opts.Release, opts.Gallery, sum)
	}
	if runErr != nil {
		return ui.WithInboxes(runErr, inboxes)
	}
	if n := sum.LeftBehind(); n > 0 {
		return leftBehindError{n: n}
	}
	if sum.Quarantined > 0 {
		verb := "quarantined"
		if opts.DryRun {
			verb = "would be quarantined"
		}
		return partialError{refused: sum.Quarantined, verb: verb}
	}
	return nil
}
