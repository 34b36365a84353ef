package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/vault"
)

// IngestOptions are the flags of veil ingest.
type IngestOptions struct {
	Vault      string
	Out        string
	Layout     string
	Workers    int
	KeepSource bool
	Settle     time.Duration
	Wait       time.Duration
	MaxSize    string
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
		Long: `ingest makes one pass over the inbox folders. Each photo is encrypted into
the vault, stripped of identifying metadata into RELEASE/<subject>/<photo>.<ext>
under random codes, and logged in the signed manifest; only then is the
source removed (--keep-source keeps it). RELEASE/index.csv lists the released
photos (photo, subject, phase, format, width, height, sha256); ingest keeps
it equal to what the log says. Formats: JPEG, PNG, WebP, HEIC (iPhone) and
AVIF.

A file is taken once its size and modification time have not changed for
--settle; hidden files and the temporary names of copies in progress are
skipped. Files that cannot be taken — a path the layout does not match, an
unknown phase, an empty or oversized file, a symbolic link, a FIFO or device,
an unsupported format (TIFF, RAW, GIF...), a damaged photo, or one whose stripped
copy fails its self-check — are moved to INBOX/.quarantine/<same path> with a
<name>.reason.txt, logged, and make veil exit with status 4. The same bytes
ingested again, under any name, are logged as a duplicate and not stored twice.

` + ingest.LayoutHelp + `

The vault lock is held for the run. A crash or power cut at any moment leaves
every photo either fully committed or still in the inbox; the next run cleans
up what the interrupted one left behind.

Events never join an inbox path (a patient's name) to a code: ingested and
duplicate events carry codes only, quarantined ones the path only.`,
		Example: `  veil ingest --vault /srv/veil --out /srv/release /srv/inbox
  veil ingest --vault /srv/veil --out /srv/release --layout '{patient}_{phase}_*' --settle 10s /srv/inbox
  veil ingest --vault /srv/veil --out /srv/release --dry-run /srv/inbox
  veil ingest --vault /srv/veil --out /srv/release --json /srv/inbox | jq -c 'select(.event=="quarantined")'`,
		Args: argsRange(1, -1, "an inbox folder"),
		RunE: func(c *cobra.Command, args []string) error {
			usage := func(format string, a ...any) error {
				return usageError{err: fmt.Errorf("ingest: "+format, a...), cmd: c.CommandPath()}
			}
			if err := checkPipelineOptions(opts, usage); err != nil {
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
	f.BoolVar(&opts.Quiet, "quiet", false, "print only problems and the summary")
	return c
}

// addPipelineFlags registers the flags that ingest and watch share. later
// says what comes after this run ("runs" or "passes").
func addPipelineFlags(f *pflag.FlagSet, opts *IngestOptions, later string) {
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault (see 'veil init')")
	f.StringVar(&opts.Out, "out", "", "release folder `RELEASE` for the coded, stripped photos (created if missing)")
	f.StringVar(&opts.Layout, "layout", ingest.DefaultLayout, "how patient and phase are read from a file's path under the inbox (see above)")
	f.IntVar(&opts.Workers, "workers", defaultWorkers(), "files hashed, encrypted and stripped in parallel")
	f.BoolVar(&opts.KeepSource, "keep-source", false, "leave ingested photos in the inbox (later "+later+" skip them)")
	f.DurationVar(&opts.Settle, "settle", 2*time.Second, "take a file only once its size and mtime have not changed for this long")
	f.StringVar(&opts.MaxSize, "max-size", "200MB", "quarantine files larger than this (bytes, or with kB, MB, GB)")
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
	if _, err := ingest.ParseLayout(opts.Layout); err != nil {
		return usage("--layout: %v", err)
	}
	return nil
}

// openPipeline opens the vault and checks the inboxes for ingest and watch;
// the flags were validated by checkPipelineOptions.
func openPipeline(opts IngestOptions, inboxes []string) (*vault.Vault, int64, *ingest.Layout, error) {
	maxSize, _ := parseSize(opts.MaxSize)
	layout, _ := ingest.ParseLayout(opts.Layout)
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
	return v, maxSize, layout, nil
}

func runIngest(ctx context.Context, opts IngestOptions, inboxes []string, stdout, stderr io.Writer) error {
	v, maxSize, layout, err := openPipeline(opts, inboxes)
	if err != nil {
		return err
	}
	pr := &printer{json: opts.JSON, quiet: opts.Quiet, stdout: stdout, stderr: stderr, inboxes: inboxes}
	// note prints what only a person at the terminal needs to know.
	note := func(text string) {
		if !opts.Quiet && !opts.JSON {
			pr.problem("", text)
		}
	}
	if !opts.DryRun {
		// veil watch takes the lock for a few seconds per pass, so the
		// nightly run waits its turn rather than failing.
		lock, err := vault.WaitLock(ctx, opts.Vault, "veil ingest", opts.Wait, func(le *vault.LockedError) {
			pr.waiting("", fmt.Sprintf("%v; waiting up to %v", le, opts.Wait))
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
		Release: opts.Out, Layout: layout, Workers: opts.Workers, KeepSource: opts.KeepSource,
		Settle: opts.Settle, MaxSize: maxSize, DryRun: opts.DryRun,
	}
	if spec := os.Getenv(crashEnv); spec != "" {
		hook, err := crashHook(spec)
		if err != nil {
			return err
		}
		popts.Hook = hook
	}
	p, err := ingest.New(v, popts)
	if err != nil {
		return err
	}
	defer p.Close()
	if n := len(p.Cleaned()); n > 0 {
		note(fmt.Sprintf("removed %d leftovers of an interrupted run (unlogged blobs or released files, temporary files)", n))
	}

	pr.prog = newIngestProgress(opts.Quiet, opts.JSON, inboxes)
	sum, runErr := p.Run(ctx, inboxes, pr.file)
	pr.prog.done()
	if err := p.Close(); err != nil && runErr == nil {
		runErr = err
	}
	pr.summary("summary", opts.DryRun, sum, runErr)
	if runErr != nil {
		return runErr
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
