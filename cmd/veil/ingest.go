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
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// IngestOptions are the flags of veil ingest.
type IngestOptions struct {
	Vault      string
	Out        string
	Layout     string
	PhaseAlias []string
	Workers    int
	KeepSource bool
	Settle     time.Duration
	Wait       time.Duration
	MaxSize    string
	Exclude    []string
	Gallery    string
	DryRun     bool
	JSON       bool
	Quiet      bool
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

		Long:    helpLong("ingest"),
		Example: helpExample("ingest"),

		Args: argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			usage := func(format string, a ...any) error {
				return usageError{err: fmt.Errorf("ingest: "+format, a...), cmd: c.CommandPath()}
			}
			if err := checkPipelineOptions(opts, usage); err != nil {
				return err
			}
			if err := checkApart(opts, args, usage); err != nil {
				return err
			}
			return runIngest(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	addPipelineFlags(f, &opts, "runs")
	f.DurationVar(&opts.Wait, "wait", 10*time.Minute, "if another veil (watch, reveal) holds the vault lock, wait this long for it (0: fail at once)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "report what would happen and change nothing")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON object per event and a summary, no progress")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on success: only problems, no summary")
	return c
}

// addPipelineFlags registers the flags that ingest and watch share. later
// says what comes after this run ("runs" or "passes").
func addPipelineFlags(f *pflag.FlagSet, opts *IngestOptions, later string) {
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault (see 'veil init')")
	f.StringVar(&opts.Out, "out", "", "release folder `RELEASE` for the coded, stripped photos (created if missing)")
	f.StringVar(&opts.Layout, "layout", layout.DefaultLayout, "how patient and phase are read from a file's path under the inbox (see above; new installs: '"+layout.IDLayout+"')")
	f.StringArrayVar(&opts.PhaseAlias, "phase-alias", nil, "`WORD=PHASE[:INTERVAL]`: a phase word of this practice, as recheck=followup:P6W or vorher=before (repeatable)")
	f.IntVar(&opts.Workers, "workers", defaultWorkers(), "files hashed, encrypted and stripped in parallel")
	f.BoolVar(&opts.KeepSource, "keep-source", false, "leave ingested photos in the inbox (later "+later+" skip them)")
	f.DurationVar(&opts.Settle, "settle", 2*time.Second, "take a file only once its size and mtime have not changed for this long")
	f.StringVar(&opts.MaxSize, "max-size", "200MB", "quarantine files larger than this (bytes, or with kB, MB, GB)")
	f.StringVar(&opts.Gallery, "gallery", "", "keep the before/after gallery in `SITE` up to date after each run that released photos (see veil gallery)")
	f.StringArrayVar(&opts.Exclude, "exclude", ingest.DefaultExclude, "skip files and folders whose name or path under the inbox matches this `PATTERN` (* ? [a-z]; case ignored); repeatable; giving it replaces the default, the sidecars of iPhone exports (--exclude '' skips nothing)")
}

// checkPipelineOptions validates the flags that ingest and watch share.
func checkPipelineOptions(opts IngestOptions, usage func(string, ...any) error) error {
	switch {
	case opts.Vault == "":
		return usage("--vault is required")
	case opts.Out == "":
		return usage("--out RELEASE is required")
	case opts.Workers < 1:
		return usage("--workers must be at least 1")
	case opts.Settle < 0:
		return usage("--settle must not be negative")
	}
	if _, err := ingest.ParseSize(opts.MaxSize); err != nil {
		return usage("--max-size: %v", err)
	}
	if opts.Gallery != "" {
		if ingest.Overlap(opts.Gallery, opts.Out) {
			return usage("--gallery %s and --out %s overlap: the gallery would be shipped with the release, or the release deleted with the gallery; put the site beside the release folder", opts.Gallery, opts.Out)
		}
	}
	for _, pat := range opts.Exclude {
		if err := ingest.CheckExclude(pat); err != nil {
			return usage("--exclude %q: not a pattern (%v)", pat, errors.Unwrap(err))
		}
	}
	_, err := pipelineLayout(opts, usage)
	return err
}

// pipelineLayout compiles --layout with the phase words of --phase-alias;
// a mistake in either is a usage error.
func pipelineLayout(opts IngestOptions, usage func(string, ...any) error) (*layout.Layout, error) {
	vocab, err := layout.ParseVocabulary(opts.PhaseAlias)
	if err != nil {
		return nil, usage("--phase-alias: %v", err)
	}
	lay, err := layout.ParseLayout(opts.Layout, vocab)
	if err != nil {
		return nil, usage("--layout: %v", err)
	}
	return lay, nil
}

// checkApart refuses a release folder, vault or gallery inside an inbox, or
// an inbox inside one of them (see ingest.CheckApart).
func checkApart(opts IngestOptions, inboxes []string, usage func(string, ...any) error) error {
	if err := ingest.CheckApart(inboxes, ingest.Folder{Name: "--out", Path: opts.Out}, ingest.Folder{Name: "--vault", Path: opts.Vault}, ingest.Folder{Name: "--gallery", Path: opts.Gallery}); err != nil {
		return usage("%v", err)
	}
	return nil
}

// openPipeline opens the vault and checks the inboxes for ingest and watch;
// the flags were validated by checkPipelineOptions.
func openPipeline(opts IngestOptions, inboxes []string) (*vault.Vault, int64, *layout.Layout, error) {
	maxSize, _ := ingest.ParseSize(opts.MaxSize)
	lay, err := pipelineLayout(opts, func(format string, a ...any) error { return fmt.Errorf(format, a...) })
	if err != nil {
		return nil, 0, nil, err
	}
	v, err := vault.Open(opts.Vault)
	if err != nil {
		return nil, 0, nil, err
	}
	for _, in := range inboxes {
		fi, err := os.Stat(in)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("inbox %s: %v", in, filekind.Bare(err))
		}
		if !fi.IsDir() {
			return nil, 0, nil, fmt.Errorf("inbox %s is not a folder; give the folder staff put photos in", in)
		}
	}
	return v, maxSize, lay, nil
}

func runIngest(ctx context.Context, opts IngestOptions, inboxes []string, stdout, stderr io.Writer) error {
	v, maxSize, lay, err := openPipeline(opts, inboxes)
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
	popts := ingest.Options{
		Release: opts.Out, Layout: lay, Workers: opts.Workers, KeepSource: opts.KeepSource,
		Settle: opts.Settle, MaxSize: maxSize, DryRun: opts.DryRun,
		Exclude: opts.Exclude,
	}
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
		refreshGallery(ctx, pr, opts.Out, opts.Gallery, sum)
	}
	if runErr != nil {
		return ui.WithInboxes(runErr, inboxes)
	}
	if sum.Tampered > 0 {
		return fmt.Errorf("%w: the release folder's %s was changed by someone (see above)", errVerifyFailed, release.IndexFile)
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
