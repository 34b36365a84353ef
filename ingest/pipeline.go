// Package ingest is the pipeline that veil ingest and veil watch drive: it
// takes photos from inbox folders into the vault, the release folder and the
// manifest, in the commit order of SPEC, or sets them aside in quarantine.
//
// The stages, one file each: walk.go finds the inbox files; take.go takes
// one file up to the commit point (open, hash, duplicate check), stage.go
// encrypts it into the vault and strips it into the release folder, both
// under temporary names; commit.go commits them in batches (group commit:
// blobs, then released files, durable and named, the lookup journal, the
// log append that is the commit point and its signed checkpoint, and only
// then the removal of the sources), or undoes a batch that did not reach
// its commit point; staged.go notes the batch being named, so that
// recover.go removes only what this host's crash left behind and refuses
// a log that does not extend the one it last committed; hostpin.go keeps
// that record outside the vault as well (Options.HostPin);
// indexcsv.go keeps the release folder's index.csv; releasefolder.go
// gives the release folder's files their mode, group and fixed time;
// quarantine.go sets files aside; lookalike.go words the hold of a name
// that resembles another patient's; arriving.go tells a copy still arriving
// from a damaged photo. committer.go holds the dry run's committer, which
// changes nothing. The keyed lookup index is package ingest/lookup.
//
// The package never prints: it reports Events to a callback and returns a
// Summary and an error.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/veil-photo/veil/ingest/layout"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// DefaultMaxSize is the default for Options.MaxSize: 200 MB (SPEC).
const DefaultMaxSize = 200_000_000

// DefaultExclude is what veil ingest and veil watch skip unless told
// otherwise: the sidecars of an iPhone or Mac Photos export. A Live Photo
// exports as IMG_0001.HEIC plus IMG_0001.MOV, a 2-3 s video around the
// still; an edited photo adds IMG_0001.AAE, the edit's settings in XML.
// Neither is a photo veil can strip or release: quarantined, they made
// every import end with status 4, so that staff learned to ignore it
// (docs/nightly-ingest.md says more).
var DefaultExclude = []string{"*.mov", "*.aae"}

// ErrNotLocked is returned by New for a pipeline that would change the
// vault without holding its lock.
var ErrNotLocked = errors.New("ingest: the vault lock is not held")

// errIndexTampered is Run's refusal after an IndexTampered event: a finding,
// like a log that fails its checks (it wraps manifest.ErrInconsistent).
var errIndexTampered error = refusal("ingest: the release folder's index.csv was changed by someone (see above); nothing was ingested — run veil verify with the auditor's pinned checkpoint, then run ingest again")

// refusal is a run refused on a finding: its message is its own, and it
// counts as manifest.ErrInconsistent (tampering until shown otherwise).
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) Unwrap() error   { return manifest.ErrInconsistent }

// Options configure a Pipeline.
type Options struct {
	Release    string         // the release folder (created if missing)
	Layout     *layout.Layout // nil means layout.DefaultLayout
	Workers    int            // files in flight; 0 means 1
	KeepSource bool           // leave ingested sources in the inbox
	Settle     time.Duration  // a file is taken once its size and mtime have not changed for this long
	MaxSize    int64          // larger files are quarantined; 0 means DefaultMaxSize
	DryRun     bool           // report what would happen, change nothing
	BatchSize  int            // records per group commit; 0 means 256

	// Exclude lists patterns of files and folders that are skipped:
	// never taken, quarantined or removed. A pattern (path.Match syntax)
	// is matched against the base name and against the path under the
	// inbox (slash-separated), without regard to case; a folder that
	// matches is not walked. The CLI's default is DefaultExclude.
	Exclude []string

	// Hook, if set, runs just before each step of the commit order, with
	// the file's path (or "" for a batch step). An error it returns is
	// treated as that step's own failure: tests inject a full disk this
	// way, and the CLI's crash trials kill the process here.
	Hook func(step Step, path string) error
	// Now returns the time written into records; nil means time.Now.
	Now func() time.Time

	// HostPin is the host pin file of the vault (see HostPinFile), outside
	// the vault folder; "" for none. New refuses a vault whose ID, log key
	// or log differ from what it pins; the first run pins the vault it
	// finds (trust on first use, said by FirstPinned).
	HostPin string
}

// Pipeline makes one pass over inbox folders into one vault and release
// folder, within one hold of the vault lock.
type Pipeline struct {
	v          *vault.Vault
	opts       Options
	recipients []age.Recipient
	keys       lookup.Keys
	ix         *lookup.Index
	commit     committer
	cleaned    []string
	ran        bool
	firstPin   string // what FirstPinned says
	// indexTampered is how index.csv differed from the log when New
	// repaired it, reported by Run as an IndexTampered event before it
	// refuses to take anything.
	indexTampered string

	mu     sync.Mutex
	claims map[lookup.MAC]*claim // originals in flight in this run

	names spellings // patient names seen in the inboxes, for look-alike holds
}

// New prepares a pass into v. Unless opts.DryRun, lock must be the held
// lock of v: New opens the log for appending (recovering an interrupted
// append), brings the lookup index up to date with its journal and the log,
// removes what an interrupted run left behind if the last pipeline did not
// close cleanly, and repairs index.csv. A dry run takes no lock and changes
// nothing in the vault or the release folder.
func New(v *vault.Vault, lock *vault.Lock, opts Options) (*Pipeline, error) {
	if opts.Layout == nil {
		l, err := layout.ParseLayout(layout.DefaultLayout, nil)
		if err != nil {
			return nil, err
		}
		opts.Layout = l
	}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Release == "" {
		return nil, errors.New("ingest: no release folder")
	}
	if !opts.DryRun && !lock.Holds(v) {
		return nil, ErrNotLocked
	}
	p := &Pipeline{v: v, opts: opts, claims: map[lookup.MAC]*claim{}}
	var err error
	if p.recipients, err = v.Recipients(); err != nil {
		return nil, err
	}
	key, err := v.IndexKey()
	if err != nil {
		return nil, err
	}
	p.keys = lookup.NewKeys(key)
	if opts.DryRun {
		p.commit, err = newDryCommitter(p)
	} else {
		p.commit, err = newVaultCommitter(p)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// FirstPinned says, on the first run with a host pin, that this vault was
// pinned as found (trust on first use); "" otherwise.
func (p *Pipeline) FirstPinned() string { return p.firstPin }

// Cleaned lists what New removed as debris of an interrupted run.
func (p *Pipeline) Cleaned() []string { return append([]string(nil), p.cleaned...) }

// Close releases the log and the lookup index; Run does it too when it
// ends.
func (p *Pipeline) Close() error { return p.commit.close() }

// candidate is one inbox entry found by the walk.
type candidate struct {
	root string      // the inbox, absolute
	in   *os.Root    // the inbox, through which every operation on the file goes
	rel  string      // slash-separated path under root
	path string      // as the user can find it (inbox argument + rel)
	fi   fs.FileInfo // from lstat
}

// full is the candidate's absolute path.
func (c *candidate) full() string { return filepath.Join(c.root, filepath.FromSlash(c.rel)) }

// name is the candidate's path in its inbox's Root.
func (c *candidate) name() string { return filepath.FromSlash(c.rel) }

// result is a worker's outcome for one file, handed to the committer.
type result struct {
	ev      Event
	rec     manifest.Record     // to log, or nil
	pending *atomicfile.Pending // Ingested: the released file, not yet named
	staged  *vault.Staged       // Ingested: the encrypted original, not yet durable or named
	blob    string              // Ingested: blob hash, removed if the batch is undone
	photo   *newPhoto           // Ingested: what the lookup journal gets
	claim   *claim              // Ingested: released when committed or failed
	dup     *dupOf              // Duplicate: what the lookup journal gets
	quarKey lookup.MAC          // Quarantined: MAC of the path it was moved to
	src     *candidate          // source to remove once committed (Ingested, Duplicate, Already)
	fatal   error               // the run cannot go on (vault or release folder full or unwritable)
}

// dupOf is a duplicate source: its path and its bytes.
type dupOf struct{ path, orig lookup.MAC }

// Run makes the pass over the inboxes. emit, if set, is called with each
// event from a single goroutine. Cancelling ctx stops taking new files; the
// files in hand are finished and committed. The error is the reason the run
// stopped early, if it did; quarantined files are not errors. A Pipeline
// runs once.
func (p *Pipeline) Run(ctx context.Context, inboxes []string, emit func(Event)) (_ Summary, runErr error) {
	start := time.Now()
	var sum Summary
	if p.ran {
		return sum, errors.New("ingest: internal error: a Pipeline runs once")
	}
	p.ran = true
	defer func() {
		if err := p.commit.close(); err != nil && runErr == nil {
			runErr = err
		}
	}()
	sum.Cleaned = len(p.cleaned)
	if emit == nil {
		emit = func(Event) {}
	}
	report := func(ev Event) {
		ev.DryRun = p.opts.DryRun
		sum.add(ev)
		emit(ev)
	}
	if p.indexTampered != "" {
		// Someone changed the release folder's index.csv (kept as
		// evidence, written anew from the log). The same hand may have
		// changed the vault: nothing is taken until someone has looked,
		// and the lookup index is left to be rebuilt, so that the next
		// run checks the vault against the log again.
		report(Event{Kind: IndexTampered, Message: p.indexTampered})
		p.ix.Break()
		return sum, errIndexTampered
	}
	roots := make([]string, len(inboxes))
	for i, in := range inboxes {
		fi, err := os.Stat(in)
		if err != nil {
			return sum, fmt.Errorf("ingest: inbox %s: %w", in, filekind.Bare(err))
		}
		if !fi.IsDir() {
			return sum, fmt.Errorf("ingest: inbox %s is not a folder", in)
		}
		if roots[i], err = filepath.Abs(in); err != nil {
			return sum, fmt.Errorf("ingest: %w", err)
		}
	}
	// Every operation inside an inbox goes through its Root: staff, who
	// can write there, cannot make veil follow a link out of it (into the
	// vault or the release folder) by swapping a folder for one.
	dirs := make([]*os.Root, len(roots))
	for i, root := range roots {
		r, err := os.OpenRoot(root)
		if err != nil {
			return sum, fmt.Errorf("ingest: inbox %s: %w", inboxes[i], filekind.Bare(err))
		}
		defer r.Close()
		dirs[i] = r
	}
	n, err := p.commit.begin(dirs)
	sum.Cleaned += n

	// stop ends the walk (caller's ctx, or a fatal error); abort also
	// interrupts the files in hand, and is used only on a fatal error.
	stop, stopRun := context.WithCancel(ctx)
	defer stopRun()
	abort, abortRun := context.WithCancel(context.WithoutCancel(ctx))
	defer abortRun()

	var fatal error
	fail := func(err error) {
		if fatal == nil {
			fatal = err
			stopRun()
			abortRun()
		}
	}
	if err != nil {
		fail(err)
	}

	cands := make(chan candidate, 2*p.opts.Workers)
	results := make(chan result, p.opts.BatchSize)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(cands)
		p.walk(stop, inboxes, roots, dirs, cands, results)
	})
	for range p.opts.Workers {
		wg.Go(func() {
			for c := range cands {
				if stop.Err() != nil {
					results <- result{ev: Event{Kind: Left, Path: c.path, Message: "not taken: the run was stopped"}}
					continue
				}
				results <- p.take(abort, c)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Group commit, pipelined: while one batch is being made durable and
	// logged, the results arriving meanwhile gather into the next, so the
	// batch size follows the rate of the disk without a timer.
	type flushed struct {
		evs []Event
		err error
	}
	done := make(chan flushed, 1)
	var pending []result
	flushing := false
	for in := results; in != nil || flushing || len(pending) > 0; {
		if !flushing && len(pending) > 0 {
			batch, failed := pending, fatal != nil
			pending, flushing = nil, true
			go func() {
				evs, err := p.commit.commit(batch, failed)
				done <- flushed{evs, err}
			}()
		}
		recv := in
		if len(pending) >= p.opts.BatchSize {
			recv = nil // back-pressure until the batch in flight is done
		}
		select {
		case r, ok := <-recv:
			switch {
			case !ok:
				in = nil
			case r.fatal != nil:
				fail(r.fatal)
				if r.ev.Kind != "" {
					report(r.ev)
				}
			case r.rec != nil || r.src != nil:
				pending = append(pending, r)
			default:
				report(r.ev)
			}
		case f := <-done:
			flushing = false
			for _, ev := range f.evs {
				report(ev)
			}
			if f.err != nil {
				fail(f.err)
			}
		}
	}
	sum.Duration = time.Since(start)
	if fatal == nil && ctx.Err() != nil {
		fatal = fmt.Errorf("ingest: stopped (%w); the files not yet taken are still in the inbox", ctx.Err())
	}
	return sum, fatal
}
