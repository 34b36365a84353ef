package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/layout"
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
	if _, err := parseSize(opts.MaxSize); err != nil {
		return usage("--max-size: %v", err)
	}
	if opts.Gallery != "" {
		if g, r := realPath(opts.Gallery), realPath(opts.Out); within(g, r) || within(r, g) {
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
	var aliases []layout.Alias
	for _, s := range opts.PhaseAlias {
		a, err := layout.ParsePhaseAlias(s)
		if err != nil {
			return nil, usage("--phase-alias: %v", err)
		}
		aliases = append(aliases, a)
	}
	vocab, err := layout.NewVocabulary(aliases...)
	if err != nil {
		return nil, usage("--phase-alias: %v", err)
	}
	lay, err := layout.ParseLayout(opts.Layout, vocab)
	if err != nil {
		return nil, usage("--layout: %v", err)
	}
	return lay, nil
}

// checkApart refuses a release folder or vault inside an inbox, or an inbox
// inside either: the release would be walked as inbox files (and
// quarantined), or the inbox's patient folders would be handed out with the
// release or kept in the vault folder.
func checkApart(opts IngestOptions, inboxes []string, usage func(string, ...any) error) error {
	for _, in := range inboxes {
		inReal := realPath(in)
		for _, o := range []struct{ flag, path string }{{"--out", opts.Out}, {"--vault", opts.Vault}, {"--gallery", opts.Gallery}} {
			if o.path == "" {
				continue
			}
			p := realPath(o.path)
			switch {
			case within(p, inReal):
				return usage("%s %s is inside the inbox %s: veil would take its own files as photos; put it outside every inbox", o.flag, o.path, in)
			case within(inReal, p):
				return usage("the inbox %s is inside %s %s: patients' folders would sit among what veil writes; put the inbox outside it", in, o.flag, o.path)
			}
		}
	}
	return nil
}

// realPath is p absolute, with symbolic links resolved as far as it exists
// (the release folder may not exist yet).
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(realPath(parent), filepath.Base(abs))
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// openPipeline opens the vault and checks the inboxes for ingest and watch;
// the flags were validated by checkPipelineOptions.
func openPipeline(opts IngestOptions, inboxes []string) (*vault.Vault, int64, *layout.Layout, error) {
	maxSize, _ := parseSize(opts.MaxSize)
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
		hook, err := crashHook(spec)
		if err != nil {
			return err
		}
		popts.Hook = hook
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

// parseSize reads a byte count: 1000, 200MB, 1.5GB, 64kB (powers of 1000,
// like humanBytes; KiB, MiB, GiB for powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}}
	mult := 1.0
	low := strings.ToLower(t)
	for _, u := range units {
		if strings.HasSuffix(low, u.suffix) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 200MB", s)
	}
	return int64(n * mult), nil
}

// crashHook returns the Options.Hook of the crash trials: SIGKILL just
// before the named step, the Nth time it is reached.
func crashHook(spec string) (func(ingest.Step, string) error, error) {
	name, nth, _ := strings.Cut(spec, ":")
	n := 1
	if nth != "" {
		var err error
		if n, err = strconv.Atoi(nth); err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want STEP or STEP:N", crashEnv, spec)
		}
	}
	known := false
	for _, s := range ingest.Steps {
		known = known || string(s) == name
	}
	if !known {
		return nil, fmt.Errorf("%s=%q: unknown step", crashEnv, spec)
	}
	var count atomic.Int64
	return func(s ingest.Step, _ string) error {
		if string(s) == name && count.Add(1) == int64(n) {
			// SIGKILL on unix, TerminateProcess on Windows: no cleanup runs.
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Kill()
			}
			select {} // the kill is on its way
		}
		return nil
	}, nil
}
