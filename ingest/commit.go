package ingest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// vaultCommitter commits into the vault, the release folder and the log, in
// the commit order of SPEC: blobs durable and named, released files
// durable and named, lookup journal entries durable, records appended (the
// commit point) and the checkpoint signed, and only then the sources
// removed. A crash anywhere leaves each source either committed exactly
// once or still in the inbox.
type vaultCommitter struct {
	p      *Pipeline
	log    *manifest.Log
	csv    *indexCSV
	staged *stagedLog   // the note of the batch being named (stagedFile)
	pin    *hostPin     // to save at a clean close; nil without Options.HostPin
	group  releaseGroup // of the release folder
	ready  bool         // New finished its cleaning and repairs
	closed bool
}

// newVaultCommitter opens the log and the lookup index for writing, removes
// what an interrupted run left behind, and repairs index.csv.
func newVaultCommitter(p *Pipeline) (*vaultCommitter, error) {
	v, release := p.v, p.opts.Release
	if err := os.MkdirAll(release, releaseDirMode); err != nil {
		return nil, fmt.Errorf("ingest: release folder: %w", err)
	}
	group, err := probeRelease(release)
	if err != nil {
		return nil, fmt.Errorf("ingest: release folder %s: %w", release, err)
	}
	p.cleaned = append(p.cleaned, cleanTemps(v.LogDir(), v.IndexDir())...)
	signer, err := v.LogSigner()
	if err != nil {
		return nil, err
	}
	c := &vaultCommitter{p: p, group: group}
	if c.log, err = manifest.Open(v.LogDir(), v.Origin(), signer); err != nil {
		return nil, err
	}
	// The host pin first: it is the one record of the vault that whoever
	// can write the vault folder cannot replace.
	if p.opts.HostPin != "" {
		pin, first, err := checkHostPin(p.opts.HostPin, v, c.log)
		if err != nil {
			c.log.Close()
			return nil, err
		}
		c.pin = &pin
		if first {
			p.firstPin = fmt.Sprintf("first use of host pin %s: this vault (%s, its log key, its log of %d records) is pinned as found; from now on a different vault or log in %s is refused", p.opts.HostPin, v.Origin(), c.log.Size(), v.Dir())
		}
	}
	// Before anything is encrypted: the recipients in vault.json must be
	// those a custodian committed in the log, or a swapped vault.json would
	// send every new original to someone else's key.
	if err := custody.CheckKeys(v); err != nil {
		c.log.Close()
		return nil, err
	}
	// Before the lookup index is rebuilt from it, and anything cleaned on
	// its word: the log must extend the one this host last committed.
	if err := checkExtends(c.log, lookup.LastCommitted(v.IndexDir())); err != nil {
		c.log.Close()
		return nil, err
	}
	staged, note, noted, err := openStaged(v.IndexDir(), p.keys)
	if err != nil {
		c.log.Close()
		return nil, err
	}
	c.staged = staged
	if p.ix, err = lookup.Open(v.IndexDir(), v.LogDir()); err != nil {
		c.log.Close()
		c.staged.close()
		return nil, err
	}
	// Until the cleaning below is done, a failure leaves the index
	// unclean (ready is not set), so that the next pipeline cleans again.
	if !p.ix.WasClean() {
		// The last run did not close cleanly: a crash or a failed batch
		// may have left blobs and released files that no record names.
		// The lock is ours, so nothing here is a write in progress. Only
		// what the note of this host's unfinished batch names is removed.
		removed, err := cleanUnlogged(v, release, p.ix, note, noted && note.proves(v.Origin(), c.log))
		p.cleaned = append(p.cleaned, removed...)
		if err != nil {
			c.close()
			return nil, err
		}
	}
	if c.csv, err = openIndexCSV(release, v, p.ix); err != nil {
		c.close()
		return nil, err
	}
	p.indexTampered = c.csv.tampered
	if err := group.fix(c.csv.path, releaseFileMode); err != nil {
		c.close()
		return nil, fmt.Errorf("ingest: release folder %s: %w", release, filekind.Bare(err))
	}
	c.ready = true
	return c, nil
}

func (c *vaultCommitter) begin(roots []*os.Root) (int, error) {
	n := 0
	for _, root := range roots {
		n += cleanQuarantineTemps(root)
	}
	return n, c.csv.openAppend()
}

// close saves index.csv's state and closes the lookup index, clean only if
// it followed every record of the log, then the log.
func (c *vaultCommitter) close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	count, size := int64(-1), int64(-1) // never clean
	var pinErr error
	if c.ready {
		count, size = c.log.Size(), c.log.RecordsSize()
		if cp, err := c.log.Checkpoint(); err == nil {
			c.p.ix.SetCommitted(lookup.Committed{N: cp.N, Root: cp.Hash})
			if c.pin != nil {
				c.pin.committed = lookup.Committed{N: cp.N, Root: cp.Hash}
				pinErr = writeHostPin(c.p.opts.HostPin, *c.pin)
			}
		}
	}
	if c.csv != nil {
		c.csv.close(count, size)
	}
	err := c.p.ix.Close(count, size)
	if cerr := c.log.Close(); err == nil {
		err = cerr
	}
	if serr := c.staged.close(); err == nil {
		err = serr
	}
	if err == nil {
		err = pinErr
	}
	return err
}

// commit makes a batch durable and logged, in the commit order, then removes
// its sources and reports it. If failed is set, the batch is undone
// instead: its sources stay in the inbox.
func (c *vaultCommitter) commit(batch []result, failed bool) (evs []Event, err error) {
	committed := false
	appending := false // the records may have reached the file
	defer func() {
		if !committed {
			evs = append(evs, c.undo(batch, appending)...)
		}
	}()
	if failed {
		return nil, nil
	}
	if err := c.noteStaged(batch); err != nil {
		return nil, err
	}
	if err := c.publishBlobs(batch); err != nil {
		return nil, err
	}
	if err := c.publishReleased(batch); err != nil {
		return nil, err
	}
	entries, recs, err := c.writeJournal(batch)
	if err != nil {
		return nil, err
	}
	if err := c.p.hook(StepCommit, ""); err != nil {
		return nil, fmt.Errorf("ingest: log: %w", err)
	}
	before := c.log.Size()
	appending = true
	first, err := c.appendLog(recs)
	if err != nil {
		if c.log.Size() == before {
			return nil, err
		}
		// The records are durable (the commit point passed); what failed
		// comes after it, and Open recovers that. The batch must not be
		// undone: its blobs and released files are referenced.
		c.p.ix.Break()
		committed = true
		c.settle(batch)
		return nil, err
	}
	committed = true
	c.staged.clear()
	followErr := c.p.ix.Follow(entries, recs, first)
	c.settle(batch)
	// index.csv follows the log; New repairs it if a crash cuts this short.
	c.csv.add(batch, c.log.Size(), c.log.RecordsSize())
	// Best effort, like the row itself: the next start sets it again.
	os.Chtimes(c.csv.path, releaseTime, releaseTime)
	for _, r := range batch {
		evs = append(evs, r.ev)
	}
	unremoved, removeErr := c.removeSources(batch)
	evs = append(evs, unremoved...)
	if removeErr != nil {
		return evs, removeErr
	}
	return evs, followErr
}

// noteStaged makes the note naming the batch's blobs and released files
// durable before any of them is named (stagedFile): what proves them
// debris of this host if the batch never reaches its commit point.
func (c *vaultCommitter) noteStaged(batch []result) error {
	var blobs, released []string
	for _, r := range batch {
		if r.staged != nil {
			blobs = append(blobs, r.staged.Ref.Hash)
		}
		if r.pending != nil {
			released = append(released, r.photo.relPath)
		}
	}
	if len(blobs)+len(released) == 0 {
		return nil
	}
	base, err := c.log.Checkpoint()
	if err != nil {
		return err
	}
	return c.staged.write(c.p.v.Origin(), base, blobs, released)
}

// publishBlobs makes the batch's encrypted originals durable and names them.
func (c *vaultCommitter) publishBlobs(batch []result) error {
	var staged []*vault.Staged
	for _, r := range batch {
		if r.staged != nil {
			staged = append(staged, r.staged)
		}
	}
	if err := c.p.v.CommitStaged(staged); err != nil {
		return fmt.Errorf("ingest: vault %s: %w", c.p.v.Dir(), err)
	}
	return nil
}

// publishReleased makes the batch's released files durable, names them, and
// makes the names durable.
func (c *vaultCommitter) publishReleased(batch []result) error {
	release := c.p.opts.Release
	named := false
	for _, r := range batch {
		named = named || r.pending != nil
	}
	if !named {
		return nil
	}
	if err := atomicfile.SyncFS(release); err != nil {
		return fmt.Errorf("ingest: release folder %s: cannot flush to disk: %w", release, err)
	}
	if err := c.p.hook(StepPublish, ""); err != nil {
		return fmt.Errorf("ingest: release folder %s: %w", release, err)
	}
	for _, r := range batch {
		if r.pending == nil {
			continue
		}
		if err := r.pending.Publish(false); err != nil {
			return fmt.Errorf("ingest: release folder %s: %w", release, filekind.Bare(err))
		}
	}
	if err := c.touchSubjects(batch); err != nil {
		return fmt.Errorf("ingest: release folder %s: %w", release, filekind.Bare(err))
	}
	if err := atomicfile.SyncFS(release); err != nil {
		return fmt.Errorf("ingest: release folder %s: cannot flush to disk: %w", release, err)
	}
	return nil
}

// writeJournal makes the batch's lookup entries durable, before the records
// that rely on them, and returns them with the records to append.
func (c *vaultCommitter) writeJournal(batch []result) (*lookup.Entries, []manifest.Record, error) {
	e := c.p.ix.Entries()
	var recs []manifest.Record
	for _, r := range batch {
		if r.rec == nil {
			continue
		}
		recs = append(recs, r.rec)
		switch {
		case r.photo != nil:
			e.Original(r.photo.orig, r.photo.photo, r.photo.path, r.photo.subjKey)
		case r.dup != nil || r.rec.Kind() == manifest.KindQuarantine:
			// Records whose entry counts only once the record is in the
			// log, recognised by the hash of its line.
			line, err := manifest.Marshal(r.rec)
			if err != nil {
				return nil, nil, fmt.Errorf("ingest: %w", err)
			}
			if r.dup != nil {
				e.Duplicate(r.dup.path, r.dup.orig, sha256.Sum256(line))
			} else {
				e.Quarantine(r.quarKey, sha256.Sum256(line))
			}
		}
	}
	if err := c.p.ix.Append(e); err != nil {
		return nil, nil, err
	}
	return e, recs, nil
}

// appendLog appends the batch's records and makes them durable: the commit
// point. The log then signs its new checkpoint.
func (c *vaultCommitter) appendLog(recs []manifest.Record) (first int64, err error) {
	return c.log.Append(recs)
}

// settle ends the claims of a batch.
func (c *vaultCommitter) settle(batch []result) {
	for _, r := range batch {
		c.p.settle(r.claim)
	}
}

// removeSources removes the sources of a committed batch, and reports each
// that cannot be removed: committed, yet still in the inbox with all its
// metadata, which the staff must know.
func (c *vaultCommitter) removeSources(batch []result) ([]Event, error) {
	if c.p.opts.KeepSource {
		return nil, nil
	}
	if err := c.p.hook(StepRemove, ""); err != nil {
		return nil, fmt.Errorf("ingest: removing committed sources: %w", err)
	}
	var evs []Event
	type folder struct {
		in       *os.Root
		dir, abs string // in the inbox; absolute
	}
	dirs := map[folder]bool{} // folders of removed sources
	for _, r := range batch {
		if r.src == nil {
			continue
		}
		if err := removeSource(r.src); err != nil {
			evs = append(evs, Event{Kind: Unremoved, Path: r.src.path,
				Message: "committed, but the source could not be removed: " + filekind.Bare(err).Error() + permissionHint(err, "write access to its folder") + "; remove it by hand (its photo is safe in the vault)"})
		} else {
			dir := filepath.Dir(r.src.name())
			dirs[folder{r.src.in, dir, filepath.Join(r.src.root, dir)}] = true
		}
	}
	for d := range dirs {
		atomicfile.SyncDir(removeEmptied(d.in, d.abs, d.dir))
	}
	return evs, nil
}

// removeEmptied removes dir (a folder of the inbox in, whose absolute path
// is abs), which veil just took the last photo from, and then each parent
// that this leaves empty, up to the inbox root (never removed), and returns
// the absolute path of the folder that is left. A patient's folder is named
// after the patient, and its time would tell when they had photos taken.
// rmdir removes only an empty folder, so one that still holds anything (a
// file veil left, one just dropped) stays; a name that is no longer a
// folder (a link swapped in) stays too, and in never lets a removal leave
// the inbox.
func removeEmptied(in *os.Root, abs, dir string) string {
	for dir != "." && filepath.IsLocal(dir) {
		fi, err := in.Lstat(dir)
		if err == nil && !fi.IsDir() {
			break
		}
		// Gone already is fine: another worker emptied it at the same time.
		if err == nil {
			err = in.Remove(dir)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			break
		}
		dir, abs = filepath.Dir(dir), filepath.Dir(abs)
	}
	return abs
}

// permissionHint says what the veil user lacks when err is a permission
// error: that is a setup problem, which docs/permissions.md solves.
func permissionHint(err error, what string) string {
	if errors.Is(err, fs.ErrPermission) {
		return "; the veil user needs " + what + " (see docs/permissions.md)"
	}
	return ""
}

// removeSource removes a committed source, unless the name now holds another
// file: that one was not ingested and stays for the next run.
func removeSource(c *candidate) error {
	fi, err := c.in.Lstat(c.name())
	err = linked(c.in, c.name(), err)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted while we worked: its bytes are in the vault
	}
	if err != nil {
		return err
	}
	if !os.SameFile(fi, c.fi) || fi.Size() != c.fi.Size() || !fi.ModTime().Equal(c.fi.ModTime()) {
		return nil
	}
	return linked(c.in, c.name(), c.in.Remove(c.name()))
}

// errLinkedPath is the reason veil gives for leaving a file whose path in
// the inbox now goes through a symbolic link: a folder was swapped for one
// after the walk listed it, and the inbox's Root refused to follow it.
var errLinkedPath = errors.New("a folder on its path in the inbox is now a symbolic link, which veil does not follow (someone may be tampering with the inbox)")

// linked returns errLinkedPath for err, a failure of an operation on name
// in the inbox in, if a folder on name's path is a symbolic link: the Root's
// own error ("path escapes from parent") does not say what happened.
func linked(in *os.Root, name string, err error) error {
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	dir := ""
	for _, part := range strings.Split(filepath.Dir(name), string(filepath.Separator)) {
		dir = filepath.Join(dir, part)
		if fi, lerr := in.Lstat(dir); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return &fs.PathError{Op: "open", Path: name, Err: errLinkedPath}
		}
	}
	return err
}

// undo removes what a batch that did not reach its commit point wrote, so
// that the vault and release folder stay as the log says, and reports its
// sources as left. Should the undo fail half-way, the next pipeline cleans
// up: it finds the index not closed cleanly. If the append itself failed (a
// write or fsync error), its records may be in the file all the same, and
// the next Open keeps those that are whole: then their blobs and released
// files must still be there, and it is the next pipeline's cleaning, which
// reads the log as it is, that removes what no record names.
func (c *vaultCommitter) undo(batch []result, appending bool) []Event {
	c.p.ix.Break()
	var evs []Event
	for _, r := range batch {
		if !appending {
			if r.pending != nil {
				r.pending.Discard()
				os.Remove(filepath.Join(c.p.opts.Release, filepath.FromSlash(r.photo.relPath)))
			}
			if r.staged != nil {
				r.staged.Discard()
			}
			if r.blob != "" {
				os.Remove(c.p.v.BlobPath(r.blob))
			}
		}
		c.p.settle(r.claim)
		if r.src != nil {
			evs = append(evs, Event{Kind: Left, Path: r.src.path, Message: "not committed: the run stopped on an error; it is still in the inbox"})
		}
	}
	return evs
}

// hook runs Options.Hook, if set, before step.
func (p *Pipeline) hook(step Step, path string) error {
	if p.opts.Hook == nil {
		return nil
	}
	return p.opts.Hook(step, path)
}
