// Package ingest is the pipeline that veil ingest and veil watch drive: it
// takes photos from inbox folders into the vault, the release folder and the
// manifest, in the commit order of SPEC, or sets them aside in quarantine.
//
// For each file: hash the source, check for a duplicate, encrypt it into the
// vault (blob durable), strip it into a temporary file in the release folder
// (self-checked), and hand it to the committer. The committer works in
// batches (group commit): one file-system sync makes the batch's released
// files durable, they get their names, the index entries are fsynced, the
// records are appended and fsynced (the commit point) and the checkpoint
// signed; only then are the sources removed. A crash anywhere leaves each
// source either committed exactly once or still in the inbox; what it leaves
// behind (temporary files, a blob or released file without a record) is
// removed when the next pipeline is created.
//
// The package never prints: it reports Events to a callback and returns a
// Summary and an error.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/vault"
)

// DefaultMaxSize is the default for Options.MaxSize: 200 MB (SPEC).
const DefaultMaxSize = 200_000_000

// ReasonSuffix ends the name of the reason file written beside a quarantined file.
const ReasonSuffix = ".reason.txt"

// Options configure a Pipeline.
type Options struct {
	Release    string        // the release folder (created if missing)
	Layout     *Layout       // nil means DefaultLayout
	Workers    int           // files in flight; 0 means 1
	KeepSource bool          // leave ingested sources in the inbox
	Settle     time.Duration // a file is taken once its size and mtime have not changed for this long
	MaxSize    int64         // larger files are quarantined; 0 means DefaultMaxSize
	DryRun     bool          // report what would happen, change nothing
	BatchSize  int           // records per group commit; 0 means 256

	// Hook, if set, runs just before each step of the commit order, with
	// the file's path (or "" for a batch step). An error it returns is
	// treated as that step's own failure: tests inject a full disk this
	// way, and the CLI's crash trials kill the process here.
	Hook func(step Step, path string) error
	// Now returns the time written into records; nil means time.Now.
	Now func() time.Time
}

// Pipeline ingests into one vault and release folder. The caller holds the
// vault lock for the pipeline's whole life. A Pipeline runs one Run at a time.
type Pipeline struct {
	v          *vault.Vault
	opts       Options
	log        *manifest.Log // nil in a dry run
	recipients []age.Recipient
	keys       keyed
	ix         *index
	tab        *table    // the lookup table; guarded by mu once Run starts
	wasClean   bool      // the table was closed cleanly by the last pipeline
	broken     bool      // a batch failed: leave the table for a rebuild
	csv        hash.Hash // running SHA-256 of what CSVFile must hold
	dryDir     string    // a dry run's private table

	mu          sync.Mutex
	claims      map[mac]*claim      // originals in flight in this run
	newSubjects map[mac]*newSubject // assigned in this run, not yet in the table

	cleaned []string
}

// claim marks an original being ingested by one worker, so that the same
// bytes met by another worker wait for its outcome instead of being stored
// twice.
type claim struct{ done chan struct{} }

// New opens the log of v for appending (recovering an interrupted append),
// brings the lookup table up to date with the index and the log (or
// rebuilds it), and, if the last pipeline did not close cleanly, removes
// what it left behind: unreferenced blobs, temporary and unlogged released
// files. It rewrites index.csv if it is not what the log calls for. In a dry
// run it changes nothing in the vault or the release folder.
func New(v *vault.Vault, opts Options) (*Pipeline, error) {
	if opts.Layout == nil {
		l, err := ParseLayout(DefaultLayout)
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
	p := &Pipeline{v: v, opts: opts, claims: map[mac]*claim{}, newSubjects: map[mac]*newSubject{}}
	var err error
	if p.recipients, err = v.Recipients(); err != nil {
		return nil, err
	}
	key, err := v.IndexKey()
	if err != nil {
		return nil, err
	}
	p.keys = keyed{key: key}

	if !opts.DryRun {
		if err := os.MkdirAll(opts.Release, 0o755); err != nil {
			return nil, fmt.Errorf("ingest: release folder: %w", err)
		}
		if err := checkWritable(opts.Release); err != nil {
			return nil, fmt.Errorf("ingest: release folder %s: %w", opts.Release, err)
		}
		// The log's checkpoint is replaced through a temporary file; one
		// killed mid-write is debris like any other.
		for _, d := range []string{v.LogDir(), v.IndexDir()} {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if atomicfile.IsTemp(e.Name()) && e.Type().IsRegular() && os.Remove(filepath.Join(d, e.Name())) == nil {
					p.cleaned = append(p.cleaned, "temporary file "+e.Name())
				}
			}
		}
		signer, err := v.LogSigner()
		if err != nil {
			return nil, err
		}
		if p.log, err = manifest.Open(v.LogDir(), v.Origin(), signer); err != nil {
			return nil, err
		}
	}
	if err := p.openTable(); err != nil {
		p.Close()
		return nil, err
	}
	if opts.DryRun {
		return p, nil
	}
	// Until the cleaning below is done, a failure must leave the table
	// unclean, so that the next pipeline cleans up again.
	p.broken = true
	if !p.wasClean {
		// The last run did not close cleanly: a crash or a failed batch
		// may have left blobs and released files that no record names.
		// The lock is ours, so nothing here is a write in progress.
		blobs, err := cleanBlobs(v, p.tab)
		if err != nil {
			p.Close()
			return nil, err
		}
		for _, h := range blobs {
			p.cleaned = append(p.cleaned, "blob "+h)
		}
		rel, err := cleanRelease(opts.Release, p.tab)
		if err != nil {
			p.Close()
			return nil, err
		}
		for _, r := range rel {
			p.cleaned = append(p.cleaned, "released file "+r)
		}
	}
	var csvSum [32]byte
	p.csv.Sum(csvSum[:0])
	if !csvCurrent(opts.Release, csvSum) {
		if err := writeCSV(opts.Release, v.LogDir()); err != nil {
			p.Close()
			return nil, err
		}
	}
	p.broken = false
	return p, nil
}

// openTable opens the lookup table and brings it up to date with IndexFile
// and the log, rebuilding it if it does not match them. A dry run builds a
// private copy in a temporary folder and leaves the vault alone.
func (p *Pipeline) openTable() error {
	dir := p.v.IndexDir()
	if p.opts.DryRun {
		tmp, err := os.MkdirTemp("", "veil-dry-run-")
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		p.dryDir = tmp
		dir = tmp
		// Start from a copy of the vault's table, which is current if the
		// last run closed it cleanly; otherwise the copy is rebuilt below
		// like any stale table.
		copyFile(filepath.Join(p.v.IndexDir(), TableFile), filepath.Join(tmp, TableFile))
	}
	t, valid, err := openTable(filepath.Join(dir, TableFile))
	if err != nil {
		return err
	}
	p.tab, p.wasClean = t, valid
	csv := sha256.New()
	if valid {
		u, ok := csv.(encoding.BinaryUnmarshaler)
		valid = ok && u.UnmarshalBinary(t.hdr.csvState) == nil &&
			endsWith(filepath.Join(p.v.IndexDir(), IndexFile), t.hdr.journalSize, t.hdr.journalTail) &&
			endsWith(filepath.Join(p.v.LogDir(), manifest.RecordsFile), t.hdr.logSize, t.hdr.logTail)
	}
	if !valid {
		// Some other copy of the index or of the log than the one the
		// table was made from (or none): build it anew.
		p.wasClean = false
		if err := t.reset(); err != nil {
			return err
		}
		csv.Reset()
		io.WriteString(csv, csvHeader)
	}
	if !p.opts.DryRun {
		if err := t.markDirty(); err != nil {
			return err
		}
	}
	if p.ix, err = replayIndex(p.v.IndexDir(), t, t.hdr.journalSize, t.hdr.journalTail, !p.opts.DryRun); err != nil {
		return err
	}
	t.hdr.journalSize, t.hdr.journalTail = p.ix.size, p.ix.tail
	if err := catchUpLog(p.v.LogDir(), t, csv); err != nil {
		return err
	}
	p.csv = csv
	return nil
}

// copyFile copies src to a new file dst, best effort: a dry run's table
// that did not copy whole is found invalid and rebuilt.
func copyFile(src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		return
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	defer out.Close()
	io.Copy(out, in)
}

// Cleaned lists what New removed as debris of an interrupted run.
func (p *Pipeline) Cleaned() []string { return append([]string(nil), p.cleaned...) }

// Close closes the lookup table and the log.
func (p *Pipeline) Close() error {
	err := p.closeTable()
	if p.log != nil {
		if cerr := p.log.Close(); err == nil {
			err = cerr
		}
		p.log = nil
	}
	if p.dryDir != "" {
		os.RemoveAll(p.dryDir)
		p.dryDir = ""
	}
	return err
}

// closeTable closes the lookup table. It is marked clean only if every
// batch was either committed or undone and the table followed every record;
// otherwise the next pipeline rebuilds it and looks for debris. Run closes
// the table when it ends, so that no stale view of it outlives the lock
// (veil watch keeps its Pipeline between passes and releases the lock).
func (p *Pipeline) closeTable() error {
	t := p.tab
	if t == nil {
		return nil
	}
	p.tab = nil
	if p.opts.DryRun || p.broken || p.log == nil || p.log.RecordsSize() != t.hdr.logSize || p.log.Size() != t.hdr.logCount {
		return t.close()
	}
	st, err := p.csv.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || len(st) > csvStateMax {
		return t.close()
	}
	t.hdr.csvState = st
	return t.closeClean()
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, atomicfile.TempPrefix+"probe-*")
	if err != nil {
		return pathErr(err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// candidate is one inbox entry found by the walk.
type candidate struct {
	root string      // the inbox, absolute
	rel  string      // slash-separated path under root
	path string      // as the user can find it (inbox argument + rel)
	fi   fs.FileInfo // from lstat
}

// result is a worker's outcome for one file, handed to the committer.
type result struct {
	ev      Event
	rec     manifest.Record     // to log, or nil
	pending *atomicfile.Pending // Ingested: the released file, not yet named
	blob    string              // Ingested: blob hash, removed if the batch fails
	staged  *vault.Staged       // Ingested: the encrypted original, not yet durable or named
	origKey mac                 // Ingested
	orig    original            // Ingested
	subjKey mac                 // Ingested
	claim   *claim              // Ingested: released when committed or failed
	dup     dupKey              // Duplicate
	quarKey mac                 // Quarantined: HMAC of the path it was moved to
	src     *candidate          // source to remove once committed (Ingested, Duplicate, Already)
	fatal   error               // the run cannot go on (vault or release folder full or unwritable)
}

// Run makes one pass over the inboxes. emit, if set, is called with each
// event from a single goroutine. Cancelling ctx stops taking new files; the
// files in hand are finished and committed. The error is the reason the run
// stopped early, if it did; quarantined files are not errors.
func (p *Pipeline) Run(ctx context.Context, inboxes []string, emit func(Event)) (_ Summary, runErr error) {
	start := time.Now()
	var sum Summary
	sum.Cleaned = len(p.cleaned)
	if emit == nil {
		emit = func(Event) {}
	}
	report := func(ev Event) {
		ev.DryRun = p.opts.DryRun
		sum.add(ev)
		emit(ev)
	}
	roots := make([]string, len(inboxes))
	for i, in := range inboxes {
		fi, err := os.Stat(in)
		if err != nil {
			return sum, fmt.Errorf("ingest: inbox %s: %w", in, pathErr(err))
		}
		if !fi.IsDir() {
			return sum, fmt.Errorf("ingest: inbox %s is not a folder", in)
		}
		if roots[i], err = filepath.Abs(in); err != nil {
			return sum, fmt.Errorf("ingest: %w", err)
		}
	}

	if p.tab == nil {
		// Closed by the last Run: catch up with what other writers did
		// since (New's cleaning is for the caller to redo, by making a
		// new Pipeline, if one of them crashed).
		if err := p.openTable(); err != nil {
			return sum, err
		}
	}
	if !p.opts.DryRun {
		defer func() {
			if err := p.closeTable(); err != nil && runErr == nil {
				runErr = err
			}
		}()
		for _, root := range roots {
			sum.Cleaned += cleanQuarantineTemps(filepath.Join(root, inbox.QuarantineDir))
		}
	}

	// stop ends the walk (caller's ctx, or a fatal error); abort also
	// interrupts the files in hand, and is used only on a fatal error.
	stop, stopRun := context.WithCancel(ctx)
	defer stopRun()
	abort, abortRun := context.WithCancel(context.WithoutCancel(ctx))
	defer abortRun()

	cands := make(chan candidate, 2*p.opts.Workers)
	results := make(chan result, p.opts.BatchSize)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(cands)
		p.walk(stop, inboxes, roots, cands, results)
	})
	for range p.opts.Workers {
		wg.Go(func() {
			for c := range cands {
				if stop.Err() != nil {
					results <- result{ev: Event{Kind: Left, Path: c.path, Message: "not taken: the run was stopped"}}
					continue
				}
				results <- p.one(abort, c)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	var fatal error
	var csv *os.File
	if !p.opts.DryRun {
		var err error
		csv, err = os.OpenFile(filepath.Join(p.opts.Release, CSVFile), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			fatal = fmt.Errorf("ingest: %s: %w", CSVFile, err)
			stopRun()
		} else {
			defer csv.Close()
		}
	}
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
	fail := func(err error) {
		if fatal == nil {
			fatal = err
			stopRun()
			abortRun()
		}
	}
	for in := results; in != nil || flushing || len(pending) > 0; {
		if !flushing && len(pending) > 0 {
			batch, failed := pending, fatal != nil
			pending, flushing = nil, true
			go func() {
				evs, err := p.commit(batch, failed, csv)
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

// commit makes a batch durable and logged, in the commit order, then removes
// its sources and reports it. If failed is set (an earlier batch hit a fatal
// error), the batch is discarded instead: its sources stay in the inbox.
func (p *Pipeline) commit(batch []result, failed bool, csv *os.File) (evs []Event, err error) {
	if p.opts.DryRun {
		for _, r := range batch {
			evs = append(evs, r.ev)
		}
		return evs, nil
	}
	hook := func(s Step) error {
		if p.opts.Hook == nil {
			return nil
		}
		return p.opts.Hook(s, "")
	}
	committed := false
	appending := false // the records may have reached the file
	defer func() {
		if committed {
			return
		}
		// Nothing of this batch is logged: undo what is not needed, so
		// that the vault and release folder stay as the log says. Should
		// the undo fail half-way, the next pipeline cleans up: it finds
		// the table not closed cleanly. If the append itself failed (a
		// write or fsync error), its records may be in the file all the
		// same, and the next Open keeps those that are whole: then their
		// named blobs and released files must still be there, and it is
		// the next pipeline's cleaning, which reads the log as it is,
		// that removes what no record names.
		p.broken = true
		for _, r := range batch {
			if appending {
				r.pending, r.staged, r.blob = nil, nil, ""
			}
			if r.pending != nil {
				r.pending.Discard()
				os.Remove(filepath.Join(p.opts.Release, r.rec.(*manifest.Ingest).Released.Path))
			}
			if r.staged != nil {
				r.staged.Discard()
			}
			if r.blob != "" {
				os.Remove(p.v.BlobPath(r.blob))
			}
			p.settle(r)
			if r.src != nil {
				evs = append(evs, Event{Kind: Left, Path: r.src.path, Message: "not committed: the run stopped on an error; it is still in the inbox"})
			}
		}
	}()
	if failed {
		return nil, nil
	}

	// 1. Encrypted originals, then released files: data durable, then
	// named, then the names durable.
	var staged []*vault.Staged
	for _, r := range batch {
		if r.staged != nil {
			staged = append(staged, r.staged)
		}
	}
	if err := p.v.CommitStaged(staged); err != nil {
		return nil, fmt.Errorf("ingest: vault %s: %w", p.v.Dir(), err)
	}
	var named bool
	for _, r := range batch {
		if r.pending != nil {
			named = true
		}
	}
	if named {
		if err := atomicfile.SyncFS(p.opts.Release); err != nil {
			return nil, fmt.Errorf("ingest: release folder %s: cannot flush to disk: %w", p.opts.Release, err)
		}
		if err := hook(StepPublish); err != nil {
			return nil, fmt.Errorf("ingest: release folder %s: %w", p.opts.Release, err)
		}
		for i := range batch {
			if batch[i].pending == nil {
				continue
			}
			if err := batch[i].pending.Publish(false); err != nil {
				return nil, fmt.Errorf("ingest: release folder %s: %w", p.opts.Release, pathErr(err))
			}
		}
		if err := atomicfile.SyncFS(p.opts.Release); err != nil {
			return nil, fmt.Errorf("ingest: release folder %s: cannot flush to disk: %w", p.opts.Release, err)
		}
	}

	// 2. Index entries, durable before the records that rely on them.
	var lines strings.Builder
	var recs []manifest.Record
	p.mu.Lock()
	for _, r := range batch {
		if r.rec != nil {
			recs = append(recs, r.rec)
		}
		switch r.rec.(type) {
		case *manifest.Duplicate, *manifest.Quarantine:
			// Records whose entry counts only once the record is in the
			// log, recognised by the hash of its line.
			line, err := manifest.Marshal(r.rec)
			if err != nil {
				p.mu.Unlock()
				return nil, fmt.Errorf("ingest: %w", err)
			}
			if _, dup := r.rec.(*manifest.Duplicate); dup {
				lines.WriteString(dupLine(r.dup, sha256.Sum256(line)))
			} else {
				lines.WriteString(quarantineLine(r.quarKey, sha256.Sum256(line)))
			}
		}
		if r.pending == nil {
			continue
		}
		if ns, ok := p.newSubjects[r.subjKey]; ok && !ns.written {
			lines.WriteString(subjectLine(r.subjKey, ns.code))
			ns.written = true
		}
		lines.WriteString(originalLine(r.origKey, r.orig))
	}
	p.mu.Unlock()
	_, statErr := os.Stat(p.ix.file)
	if err := p.ix.appendDurable([]byte(lines.String())); err != nil {
		return nil, err
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := atomicfile.SyncDir(filepath.Dir(p.ix.file)); err != nil {
			return nil, fmt.Errorf("ingest: index: %w", err)
		}
	}

	// 3. The commit point, and the signed checkpoint.
	if err := hook(StepCommit); err != nil {
		return nil, fmt.Errorf("ingest: log: %w", err)
	}
	before := p.log.Size()
	appending = true
	first, err := p.log.Append(recs)
	if err != nil {
		if p.log.Size() == before {
			return nil, err
		}
		// The records are durable (the commit point passed); what failed
		// comes after it, and Open recovers that. The batch must not be
		// undone: its blobs and released files are referenced.
		p.broken = true
		committed = true
		for _, r := range batch {
			p.settle(r)
		}
		return nil, err
	}
	committed = true
	var csvRows strings.Builder
	for _, r := range batch {
		if r.pending != nil {
			csvRows.WriteString(csvRow(r.rec.(*manifest.Ingest)))
		}
	}
	p.mu.Lock()
	tabErr := p.follow(lines.String(), recs, first)
	p.mu.Unlock()
	if tabErr != nil {
		p.broken = true
	}
	for _, r := range batch {
		p.settle(r)
	}
	// index.csv follows the log; New repairs it if a crash cuts this short.
	if csv != nil && csvRows.Len() > 0 {
		csv.WriteString(csvRows.String())
	}

	// 4. Only now may the sources go.
	var removeErr error
	if !p.opts.KeepSource {
		if err := hook(StepRemove); err != nil {
			removeErr = err
		} else {
			dirs := map[string]bool{}
			for _, r := range batch {
				if r.src == nil {
					continue
				}
				if err := removeSource(r.src); err != nil {
					r.ev.Message = "committed, but the source could not be removed: " + pathErr(err).Error()
				} else {
					dirs[filepath.Dir(filepath.Join(r.src.root, r.src.rel))] = true
				}
			}
			for d := range dirs {
				atomicfile.SyncDir(d)
			}
		}
	}
	for _, r := range batch {
		evs = append(evs, r.ev)
	}
	if removeErr != nil {
		return evs, fmt.Errorf("ingest: removing committed sources: %w", removeErr)
	}
	if tabErr != nil {
		return evs, tabErr
	}
	return evs, nil
}

// follow brings the lookup table up to date with a committed batch: the
// lines it appended to IndexFile and the records it appended to the log,
// read as a rebuild would read them. The caller holds mu.
func (p *Pipeline) follow(lines string, recs []manifest.Record, first int64) error {
	t := p.tab
	for line := range strings.Lines(lines) {
		line = strings.TrimSuffix(line, "\n")
		if err := parseIndexLine(t, []byte(line)); err != nil {
			return err
		}
	}
	t.hdr.journalSize, t.hdr.journalTail = p.ix.size, p.ix.tail
	for k, ns := range p.newSubjects {
		if ns.written {
			delete(p.newSubjects, k)
		}
	}
	for i, rec := range recs {
		line, err := manifest.Marshal(rec)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if err := logRecord(t, p.csv, first+int64(i), line); err != nil {
			return err
		}
		t.hdr.logCount, t.hdr.logSize, t.hdr.logTail = first+int64(i)+1, t.hdr.logSize+int64(len(line))+1, lineTail(line)
	}
	return nil
}

// lookupOriginal returns the committed photo that holds the original with
// HMAC key k, and the HMAC of the path it came from. The caller holds mu.
func (p *Pipeline) lookupOriginal(k mac) (photo uuid.UUID, path short, found bool, err error) {
	v, ok, err := p.tab.get(kindOriginal, slotKey(k.short()))
	if err != nil || !ok {
		return photo, path, false, err
	}
	photo, path = uuid.UUID(v[:16]), short(v[16:])
	// An "o" entry counts only if its photo's record is committed: a crash
	// between the index fsync and the log append leaves one that does not.
	committed, err := p.tab.has(kindPhoto, slotKey(photo))
	return photo, path, committed, err
}

// quarantineLogged reports whether a quarantine record is committed for
// the quarantined file whose path has HMAC key k. The caller holds mu.
func (p *Pipeline) quarantineLogged(k mac) (bool, error) {
	v, ok, err := p.tab.get(kindQuarantine, slotKey(k.short()))
	if err != nil || !ok {
		return false, err
	}
	return p.tab.has(kindRecord, slotKey(v[:16]))
}

// dupLogged reports whether a duplicate record for dk is committed. The
// caller holds mu.
func (p *Pipeline) dupLogged(dk dupKey) (bool, error) {
	v, ok, err := p.tab.get(kindDup, dk.slot())
	if err != nil || !ok {
		return false, err
	}
	return p.tab.has(kindRecord, slotKey(v[:16]))
}

// settle ends a claim: waiters see the outcome in the index.
func (p *Pipeline) settle(r result) {
	if r.claim == nil {
		return
	}
	p.mu.Lock()
	// A failed claim frees the bytes for a waiting worker to try again.
	// Its subject code stays assigned in memory and is written with the
	// first record that names it.
	delete(p.claims, r.origKey)
	p.mu.Unlock()
	close(r.claim.done)
}

// removeSource removes a committed source, unless the name now holds another
// file: that one was not ingested and stays for the next run.
func removeSource(c *candidate) error {
	full := filepath.Join(c.root, filepath.FromSlash(c.rel))
	fi, err := os.Lstat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted while we worked: its bytes are in the vault
	}
	if err != nil {
		return err
	}
	if !os.SameFile(fi, c.fi) || fi.Size() != c.fi.Size() || !fi.ModTime().Equal(c.fi.ModTime()) {
		return nil
	}
	return os.Remove(full)
}

// one takes a file through the steps up to the commit point.
func (p *Pipeline) one(ctx context.Context, c candidate) result {
	hook := func(s Step) error {
		if p.opts.Hook == nil {
			return nil
		}
		return p.opts.Hook(s, c.path)
	}
	detail := manifest.Detail{Path: filepath.Join(c.root, filepath.FromSlash(c.rel)), Name: c.fi.Name(), Size: c.fi.Size(), ModTime: c.fi.ModTime()}
	quarantine := func(reason string, err error) result {
		return p.quarantine(c, detail, reason, err)
	}
	if m := c.fi.Mode(); m&fs.ModeSymlink != 0 {
		return quarantine("symlink", errors.New("a symbolic link, which veil does not follow (copy the photo itself)"))
	} else if !m.IsRegular() {
		return quarantine("special-file", fmt.Errorf("a %s, not a photo file", filekind.Name(m)))
	}
	place, err := p.opts.Layout.Match(c.rel)
	detail.PatientKey, detail.Phase = place.Patient, place.PhaseText
	if errors.Is(err, ErrPhase) {
		return quarantine("phase", err)
	} else if err != nil {
		return quarantine("layout", fmt.Errorf("%w (move it into a folder the layout names, or use --layout)", err))
	}
	switch {
	case c.fi.Size() == 0:
		return quarantine("empty", errors.New("empty file (was the copy interrupted? copy it again)"))
	case c.fi.Size() > p.opts.MaxSize:
		return quarantine("too-large", fmt.Errorf("%d bytes, more than --max-size %d", c.fi.Size(), p.opts.MaxSize))
	}

	full := detail.Path
	f, _, err := filekind.OpenRegular(full)
	if errors.Is(err, fs.ErrNotExist) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "removed from the inbox before it could be read"}}
	}
	if errors.Is(err, filekind.ErrSymlink) {
		return quarantine("symlink", errors.New("a symbolic link, which veil does not follow (copy the photo itself)"))
	}
	if errors.Is(err, filekind.ErrNotRegular) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "changed while being read; left for the next run"}}
	}
	if err != nil {
		return quarantine("unreadable", pathErr(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return quarantine("unreadable", pathErr(err))
	}
	if !fi.Mode().IsRegular() || !os.SameFile(fi, c.fi) || fi.Size() != c.fi.Size() || !fi.ModTime().Equal(c.fi.ModTime()) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "changed while being read; left for the next run"}}
	}
	size := fi.Size()

	// Hash the source.
	if err := hook(StepHash); err != nil {
		return p.stepErr(c, err)
	}
	var src io.ReaderAt = f
	var sha mac
	var head []byte
	if size <= memLimit {
		// Read once: hash, vault and strip all see these very bytes, and
		// the file is not read three times through the kernel.
		buf := memPool.Get().(*[]byte)
		defer memPool.Put(buf)
		if int64(cap(*buf)) < size {
			*buf = make([]byte, size)
		}
		data := (*buf)[:size]
		if _, err := f.ReadAt(data, 0); err != nil {
			return quarantine("unreadable", pathErr(err))
		}
		sha = sha256.Sum256(data)
		head = data[:min(size, photo.SniffLen)]
		src = bytes.NewReader(data)
	} else if sha, head, err = hashFile(f, size); err != nil {
		return quarantine("unreadable", err)
	}
	detail.SHA256 = fmt.Sprintf("%x", sha[:])
	format, err := photo.Sniff(head)
	if err != nil {
		if errors.Is(err, photo.ErrEmpty) {
			return quarantine("empty", errors.New("empty file (was the copy interrupted? copy it again)"))
		}
		return quarantine("format", err)
	}

	// Duplicate check; claim the bytes if they are new.
	origKey := p.keys.original(sha)
	pathKey := p.keys.path(full)
	var cl *claim
	for cl == nil {
		p.mu.Lock()
		photo, path, found, err := p.lookupOriginal(origKey)
		if err != nil {
			p.mu.Unlock()
			return result{fatal: err}
		}
		if found {
			dk := dupKey{path: pathKey, orig: origKey}
			logged, err := p.dupLogged(dk)
			p.mu.Unlock()
			if err != nil {
				return result{fatal: err}
			}
			if path == pathKey.short() || logged {
				return result{ev: Event{Kind: Already, Photo: photo.String(), Bytes: size}, src: p.sourceUnlessKept(c)}
			}
			r := p.duplicate(c, detail, photo, size)
			r.dup = dk
			return r
		}
		if w := p.claims[origKey]; w != nil {
			p.mu.Unlock()
			<-w.done
			continue
		}
		cl = &claim{done: make(chan struct{})}
		p.claims[origKey] = cl
		p.mu.Unlock()
	}
	r := p.store(ctx, c, src, size, sha, format, place, detail, hook)
	if r.pending == nil {
		p.settle(result{claim: cl, origKey: origKey})
		return r
	}
	r.claim, r.origKey = cl, origKey
	r.orig.path = pathKey
	return r
}

// store encrypts the original into the vault and strips it into the release
// folder: everything before the commit point.
func (p *Pipeline) store(ctx context.Context, c candidate, f io.ReaderAt, size int64, sha mac, format photo.Format,
	place Placement, detail manifest.Detail, hook func(Step) error) result {
	photoCode, err := newCode()
	if err != nil {
		return result{fatal: err}
	}
	subjKey := p.keys.subject(place.PatientKey)
	p.mu.Lock()
	subject, err := p.subject(subjKey)
	p.mu.Unlock()
	if err != nil {
		return result{fatal: err}
	}
	relPath := subject.String() + "/" + photoCode.String() + format.Ext()

	if p.opts.DryRun {
		res, err := photo.Strip(io.Discard, f, size)
		if err != nil {
			return p.stripFailed(c, detail, err)
		}
		// What the rest of the dry run must see as ingested.
		p.mu.Lock()
		err = p.tab.put(kindOriginal, slotKey(p.keys.original(sha).short()), originalValue(photoCode, p.keys.path(detail.Path)))
		if err == nil {
			err = p.tab.put(kindPhoto, slotKey(photoCode), slotValue{})
		}
		p.mu.Unlock()
		if err != nil {
			return result{fatal: err}
		}
		return result{ev: Event{Kind: Ingested, Photo: photoCode.String(), Subject: subject.String(), Phase: place.Phase,
			Format: res.Format.String(), Width: res.Width, Height: res.Height, Bytes: size}}
	}

	// Encrypt into the vault: staged here, made durable and named with the
	// rest of its batch (group commit) before the batch is logged.
	if err := hook(StepPut); err != nil {
		return p.stepErr(c, err)
	}
	var st *vault.Staged
	if _, inMemory := f.(*bytes.Reader); inMemory {
		// The very bytes hashed above: the vault need not hash them again.
		st, err = p.v.StageKnown(ctx, io.NewSectionReader(f, 0, size), sha)
	} else {
		st, err = p.v.Stage(ctx, io.NewSectionReader(f, 0, size))
	}
	if err != nil {
		return p.stepErr(c, err)
	}
	ref := st.Ref
	if ref.PlainSize != size || ref.PlainSHA256 != detail.SHA256 {
		st.Discard()
		return result{ev: Event{Kind: Left, Path: c.path, Message: "changed while being read; left for the next run"}}
	}

	// Strip into a temporary file in the release folder, self-checked.
	if err := hook(StepRelease); err != nil {
		st.Discard()
		return p.stepErr(c, err)
	}
	target := filepath.Join(p.opts.Release, filepath.FromSlash(relPath))
	pending, res, relSHA, err := p.release(target, f, size)
	if err != nil {
		st.Discard()
		var we *writeError
		if errors.As(err, &we) {
			return p.stepErr(c, we.err)
		}
		return p.stripFailed(c, detail, err)
	}
	sealed, err := manifest.Seal(detail, p.recipients)
	if err != nil {
		pending.Discard()
		st.Discard()
		return result{fatal: err}
	}
	rec := &manifest.Ingest{
		Photo: photoCode.String(), Subject: subject.String(), Phase: place.Phase, Format: res.Format.String(),
		Released: manifest.Released{Path: relPath, SHA256: relSHA, Size: res.BytesOut, Width: res.Width, Height: res.Height},
		Blob:     manifest.BlobInfo{SHA256: ref.Hash, Size: ref.Size},
		Time:     p.opts.Now(),
		Sealed:   sealed,
	}
	return result{
		ev: Event{Kind: Ingested, Photo: rec.Photo, Subject: rec.Subject, Phase: rec.Phase, Format: rec.Format,
			Width: res.Width, Height: res.Height, Bytes: size},
		rec: rec, pending: pending, blob: ref.Hash, staged: st,
		orig: original{photo: photoCode}, subjKey: subjKey,
		src: p.sourceUnlessKept(c),
	}
}

// subject returns the subject code of the patient with HMAC key k: the one
// the index holds, or one assigned in this run, or a new one. The caller
// holds mu.
func (p *Pipeline) subject(k mac) (uuid.UUID, error) {
	if ns, ok := p.newSubjects[k]; ok {
		return ns.code, nil
	}
	v, ok, err := p.tab.get(kindSubject, slotKey(k.short()))
	if err != nil {
		return uuid.UUID{}, err
	}
	if ok {
		return uuid.UUID(v[:16]), nil
	}
	u, err := newCode()
	if err != nil {
		return uuid.UUID{}, err
	}
	p.newSubjects[k] = &newSubject{code: u}
	return u, nil
}

// newSubject is a subject code assigned in this run, kept in memory until
// the table holds it. Its line is written to IndexFile with the first batch
// that names it.
type newSubject struct {
	code    uuid.UUID
	written bool
}

func (p *Pipeline) sourceUnlessKept(c candidate) *candidate {
	if p.opts.KeepSource {
		return nil
	}
	return &c
}

// writeError marks a failure to write the release folder, as opposed to a
// photo that cannot be stripped.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// hashingWriter writes to a file, hashes what it wrote and remembers a write
// error, which is the release folder's fault and not the photo's. It offers
// ReadAt and Seek so that photo.Strip self-checks by reading the file back.
type hashingWriter struct {
	f   *atomicfile.File
	h   hash.Hash
	err error
}

func (w *hashingWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.h.Write(b[:n])
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *hashingWriter) ReadAt(b []byte, off int64) (int, error) { return w.f.ReadAt(b, off) }

func (w *hashingWriter) Seek(off int64, whence int) (int64, error) { return w.f.Seek(off, whence) }

func (p *Pipeline) release(target string, f io.ReaderAt, size int64) (*atomicfile.Pending, *photo.Result, string, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", p.opts.Release, pathErr(err))}
	}
	out, err := atomicfile.Create(target, 0o644)
	if err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", p.opts.Release, pathErr(err))}
	}
	defer out.Abort()
	w := &hashingWriter{f: out, h: sha256.New()}
	res, err := photo.Strip(w, f, size)
	if w.err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", p.opts.Release, pathErr(w.err))}
	}
	if err != nil {
		return nil, nil, "", err
	}
	atomicfile.StartWriteback(out.File)
	pending, err := out.Close()
	if err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", p.opts.Release, pathErr(err))}
	}
	return pending, res, fmt.Sprintf("%x", w.h.Sum(nil)), nil
}

// stepErr turns a failure of the vault or the release folder into the end
// of the run: every further file would fail the same way. The file stays in
// the inbox.
func (p *Pipeline) stepErr(c candidate, err error) result {
	if errors.Is(err, context.Canceled) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "not committed: the run was stopped; it is still in the inbox"}}
	}
	hint := "; stopped, the files not committed are still in the inbox"
	if isFull(err) {
		hint = "; stopped: make room, then run again (nothing was lost: the files not committed are still in the inbox)"
	}
	return result{
		ev:    Event{Kind: Left, Path: c.path, Message: "not committed: " + err.Error()},
		fatal: fmt.Errorf("ingest: %s: %w%s", c.path, err, hint),
	}
}

func isFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func (p *Pipeline) stripFailed(c candidate, d manifest.Detail, err error) result {
	var fe *photo.FormatError
	var ue *photo.UnsupportedError
	switch {
	case errors.Is(err, photo.ErrSelfCheck):
		return p.quarantine(c, d, "self-check", fmt.Errorf("%w (please report this file to the veil developers)", err))
	case errors.As(err, &ue):
		return p.quarantine(c, d, "format", err)
	case errors.As(err, &fe):
		return p.quarantine(c, d, "damaged", fmt.Errorf("%w; the file is damaged or incomplete (copy it again from the camera or phone)", err))
	}
	return p.quarantine(c, d, "unreadable", err)
}

// duplicate logs bytes already ingested as another photo.
func (p *Pipeline) duplicate(c candidate, d manifest.Detail, of uuid.UUID, size int64) result {
	ev := Event{Kind: Duplicate, Photo: of.String(), Bytes: size}
	if p.opts.DryRun {
		return result{ev: ev}
	}
	sealed, err := manifest.Seal(d, p.recipients)
	if err != nil {
		return result{fatal: err}
	}
	return result{ev: ev, rec: &manifest.Duplicate{Of: of.String(), Time: p.opts.Now(), Sealed: sealed}, src: p.sourceUnlessKept(c)}
}

// hashFile returns the SHA-256 of f's size bytes and their head.
func hashFile(f *os.File, size int64) (mac, []byte, error) {
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	h := sha256.New()
	head := make([]byte, 0, photo.SniffLen)
	r := io.NewSectionReader(f, 0, size)
	var n int64
	for {
		k, err := r.Read(*buf)
		if len(head) < photo.SniffLen {
			head = append(head, (*buf)[:min(k, photo.SniffLen-len(head))]...)
		}
		h.Write((*buf)[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return mac{}, nil, pathErr(err)
		}
	}
	if n != size {
		return mac{}, nil, fmt.Errorf("read %d bytes, expected %d", n, size)
	}
	var m mac
	h.Sum(m[:0])
	return m, head, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// memLimit is the largest source read into memory whole (a 12 MP JPEG is 3
// to 8 MB); larger ones are streamed from the file, three times.
const memLimit = 16 << 20

var memPool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}

func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
