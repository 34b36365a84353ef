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

// cleanUnlogged removes the blobs and released files that no record names,
// which a run that did not close cleanly may have left.
func cleanUnlogged(v *vault.Vault, release string, ix *lookup.Index) (removed []string, err error) {
	blobs, err := cleanBlobs(v, ix)
	for _, h := range blobs {
		removed = append(removed, "blob "+h)
	}
	if err != nil {
		return removed, err
	}
	rel, err := cleanRelease(release, ix)
	for _, r := range rel {
		removed = append(removed, "released file "+r)
	}
	return removed, err
}

// cleanRelease removes what a crash can leave in the release folder:
// temporary files, and released files that no record names (written, then
// the crash came before the commit point). Only names of the form
// <code>/<code>.<ext> are ever removed, so files someone else put in the
// folder are left alone (veil verify reports them). Folders are read a
// chunk at a time: memory does not grow with the release.
func cleanRelease(release string, ix *lookup.Index) (removed []string, err error) {
	err = inbox.Walk(release, func(path string, d fs.DirEntry, err error) error {
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
		orphan := atomicfile.IsTemp(name)
		if stem, _, _ := strings.Cut(name, "."); dir != "" {
			if photo, err := code.Parse(stem); err == nil {
				logged, err := ix.PhotoCommitted(photo)
				if err != nil {
					return err
				}
				orphan = orphan || !logged
			}
		}
		if orphan && os.Remove(path) == nil {
			removed = append(removed, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("ingest: release folder: %w", err)
	}
	if len(removed) > 0 {
		if err := atomicfile.SyncFS(release); err != nil {
			return removed, fmt.Errorf("ingest: release folder: %w", err)
		}
	}
	return removed, nil
}

// cleanBlobs removes blobs no record names: the encrypted original of a
// photo whose run crashed before its commit point. Its source is still in the
// inbox and is stored again; the vault keeps only what the log references.
func cleanBlobs(v *vault.Vault, ix *lookup.Index) (removed []string, err error) {
	var orphans []string
	err = v.WalkBlobs(func(hash string, size int64) error {
		if _, err := hex.DecodeString(hash); err != nil || len(hash) != 64 {
			return nil // not a blob name: not ours to remove
		}
		logged, err := ix.BlobCommitted(hash)
		if err != nil {
			return err
		}
		if !logged {
			orphans = append(orphans, hash)
		}
		return nil
	})
	var stray *vault.StrayFilesError
	if err != nil && !errors.As(err, &stray) {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	for _, h := range orphans {
		if os.Remove(v.BlobPath(h)) == nil {
			removed = append(removed, h)
		}
	}
	return removed, nil
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
