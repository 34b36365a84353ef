package ingest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// cleanTemps removes the temporary files in dirs: the log's checkpoint and
// the lookup table are replaced through one, and one killed mid-write is
// debris like any other. The lock is held, so none is being written.
func cleanTemps(dirs ...string) (removed []string) {
	for _, d := range dirs {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if atomicfile.IsTemp(e.Name()) && e.Type().IsRegular() && os.Remove(filepath.Join(d, e.Name())) == nil {
				removed = append(removed, "temporary file "+e.Name())
			}
		}
	}
	return removed
}

// UnloggedError is returned by New when the vault or the release folder
// holds blobs or released files that no record of the log names and that
// no unfinished batch of this host left (see stagedFile): the log was put
// back from an older copy or replaced, or someone put the files there.
// Nothing is removed — they may be the only copy of an original — and
// nothing is ingested. It wraps manifest.ErrInconsistent.
type UnloggedError struct {
	Blobs, Released int
	Examples        []string // the first few, as "blob <hash>" or "released file <path>"
}

func (e *UnloggedError) Error() string {
	return fmt.Sprintf("ingest: %v: %d blobs and %d released files are named by no record of the log, and no unfinished batch of this host left them (first: %s): the log was put back from an older copy or replaced, or they were put there by hand; nothing was removed and nothing ingested — run veil verify with the auditor's pinned checkpoint, and put back the log this host wrote",
		manifest.ErrInconsistent, e.Blobs, e.Released, strings.Join(e.Examples, ", "))
}

func (e *UnloggedError) Unwrap() error { return manifest.ErrInconsistent }

// RollbackError is returned by New when the log does not extend the one
// this host last committed (lookup.LastCommitted): it is shorter (a copy
// of log/ put back) or its records differ (another vault's log). New then
// changes nothing. It wraps manifest.ErrInconsistent.
type RollbackError struct {
	Have      int64 // records in the log found
	Committed int64 // records this host last committed
}

func (e *RollbackError) Error() string {
	what := fmt.Sprintf("the log has %d records, but this host last committed %d: it was rolled back (an older copy of log/ put back) or replaced", e.Have, e.Committed)
	if e.Have >= e.Committed {
		what = fmt.Sprintf("the log's first %d records are not the ones this host committed: it was replaced (another vault's log, or one rewritten)", e.Committed)
	}
	return fmt.Sprintf("ingest: %v: %s; nothing was changed — run veil verify with the auditor's pinned checkpoint, and put back the log this host wrote", manifest.ErrInconsistent, what)
}

func (e *RollbackError) Unwrap() error { return manifest.ErrInconsistent }

// checkExtends returns a *RollbackError unless l extends the log whose
// checkpoint last is (none recorded: nothing to check).
func checkExtends(l *manifest.Log, last lookup.Committed) error {
	if last.N == 0 {
		return nil
	}
	if l.Size() < last.N {
		return &RollbackError{Have: l.Size(), Committed: last.N}
	}
	cp, err := l.CheckpointAt(last.N)
	if err != nil {
		return err
	}
	if cp.Hash != last.Root {
		return &RollbackError{Have: l.Size(), Committed: last.N}
	}
	return nil
}

// leftovers is what a run that did not close cleanly may have left: the
// files cleaning removes, and those it must not.
type leftovers struct {
	remove   []string // paths: temporary files, and the unlogged files the note names
	names    []string // what remove holds, as Cleaned reports it
	unproven UnloggedError
}

func (lo *leftovers) add(path, name string) {
	lo.remove = append(lo.remove, path)
	lo.names = append(lo.names, name)
}

func (lo *leftovers) refuse(name string) {
	if len(lo.unproven.Examples) < 3 {
		lo.unproven.Examples = append(lo.unproven.Examples, name)
	}
}

// cleanUnlogged removes the blobs and released files that no record names,
// which a run that did not close cleanly may have left, if note (when ok)
// names each of them: then they are the debris of this host's unfinished
// batch. If any other is found it removes nothing and returns an
// *UnloggedError.
func cleanUnlogged(v *vault.Vault, release string, ix *lookup.Index, note stagedNote, ok bool) (removed []string, err error) {
	if !ok {
		note = stagedNote{}
	}
	var lo leftovers
	if err := findBlobs(v, ix, note, &lo); err != nil {
		return nil, err
	}
	if err := findReleased(release, ix, note, &lo); err != nil {
		return nil, err
	}
	if lo.unproven.Blobs+lo.unproven.Released > 0 {
		return nil, &lo.unproven
	}
	for i, p := range lo.remove {
		if os.Remove(p) == nil {
			removed = append(removed, lo.names[i])
		}
	}
	if len(removed) > 0 {
		if err := atomicfile.SyncFS(release); err != nil {
			return removed, fmt.Errorf("ingest: release folder: %w", err)
		}
	}
	return removed, nil
}

// findReleased looks for what a crash can leave in the release folder:
// temporary files, and released files that no record names (written, then
// the crash came before the commit point). Only names of the form
// <code>/<code>.<ext> are ever considered, so files someone else put in the
// folder are left alone (veil verify reports them). Folders are read a
// chunk at a time: memory does not grow with the release.
func findReleased(release string, ix *lookup.Index, note stagedNote, lo *leftovers) error {
	err := inbox.Walk(release, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == release {
			return err
		}
		rel, _ := filepath.Rel(release, path)
		dir, name := filepath.Split(rel) // dir is "" at the top, "<code>/" below
		switch {
		case d.IsDir():
			if dir != "" || !code.Valid(name) {
				return fs.SkipDir // only <subject>/ folders hold released files
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		slash := filepath.ToSlash(rel)
		if atomicfile.IsTemp(name) {
			lo.add(path, "released file "+slash)
			return nil
		}
		stem, _, _ := strings.Cut(name, ".")
		photo, err := code.Parse(stem)
		if dir == "" || err != nil {
			return nil
		}
		logged, err := ix.PhotoCommitted(photo)
		switch {
		case err != nil:
			return err
		case logged:
		case note.released[slash]:
			lo.add(path, "released file "+slash)
		default:
			lo.unproven.Released++
			lo.refuse("released file " + slash)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ingest: release folder: %w", err)
	}
	return nil
}

// findBlobs looks for blobs no record names: the encrypted original of a
// photo whose run crashed before its commit point, whose source is still
// in the inbox and is stored again.
func findBlobs(v *vault.Vault, ix *lookup.Index, note stagedNote, lo *leftovers) error {
	err := v.WalkBlobs(func(hash string, size int64) error {
		if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
			return nil // not a blob name: not ours to remove
		}
		logged, err := ix.BlobCommitted(hash)
		switch {
		case err != nil:
			return err
		case logged:
		case note.blobs[hash]:
			lo.add(v.BlobPath(hash), "blob "+hash)
		default:
			lo.unproven.Blobs++
			lo.refuse("blob " + hash)
		}
		return nil
	})
	var stray *vault.StrayFilesError
	if err != nil && !errors.As(err, &stray) {
		return fmt.Errorf("ingest: %w", err)
	}
	return nil
}

// recoverQuarantine logs the files in root's quarantine folder that were
// moved there by a run that stopped before their record was committed (the
// move comes first, so that a file is never logged as quarantined while
// still in the inbox). A file counts as logged when the index holds a "q"
// entry for its path whose record is in the log. Only a pipeline that
// found the lookup index not closed cleanly looks, since only an interrupted run
// leaves such files.
func (vc *vaultCommitter) recoverQuarantine(root string, results chan<- result) error {
	p := vc.p
	if p.ix.WasClean() {
		return nil
	}
	dir := filepath.Join(root, inbox.QuarantineDir)
	return inbox.Walk(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ReasonSuffix) || atomicfile.IsTemp(d.Name()) {
			return nil
		}
		key := p.keys.Path(path)
		logged, err := p.ix.QuarantineLogged(key)
		if err != nil || logged {
			return err
		}
		reason, why, rel := readReason(path + ReasonSuffix)
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		// The detail says where the file was found, as a quarantine
		// record logged in time does.
		orig := path
		if rel != "" && filepath.IsLocal(filepath.FromSlash(rel)) {
			orig = filepath.Join(root, filepath.FromSlash(rel))
		}
		detail := manifest.Detail{Path: orig, Name: filepath.Base(orig), Size: fi.Size(), ModTime: fi.ModTime(),
			Message: "quarantined by a run that stopped before logging it: " + why}
		sealed, err := manifest.Seal(detail, p.recipients)
		if err != nil {
			return err
		}
		results <- result{
			ev:      Event{Kind: Quarantined, Path: path, Reason: reason, Message: "logged now: quarantined by an interrupted run (" + why + ")", Bytes: fi.Size()},
			rec:     &manifest.Quarantine{Reason: reason, Time: p.opts.Now(), Sealed: sealed},
			quarKey: key,
		}
		return nil
	})
}
