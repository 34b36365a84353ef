package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tempSuffixes and tempPrefixes are names that copy tools, browsers, sync
// clients and editors give a file while it is still being written.
var (
	tempSuffixes = []string{"~", ".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", ".!sync", ".sb-"}
	tempPrefixes = []string{"~$", ".~"}
	// systemNames are files an operating system leaves in any folder it
	// shows. They are not photos: skipped, never quarantined. (Thumbs.db
	// holds thumbnails of the folder's photos; it stays where Windows put it.)
	systemNames = []string{"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "icon\r"}
)

// isTempName reports whether a base name is hidden, a copy in progress, or
// operating-system litter.
func isTempName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	l := strings.ToLower(name)
	for _, s := range systemNames {
		if l == s {
			return true
		}
	}
	for _, s := range tempSuffixes {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	for _, s := range tempPrefixes {
		if strings.HasPrefix(l, s) {
			return true
		}
	}
	return strings.Contains(l, ".sb-") // macOS safe-save
}

// walk sends every candidate file of the inboxes to cands, streaming so that
// memory does not grow with the inbox. Hidden and temporary names are
// reported as skipped; files written to within the settle time are looked
// at again once it has passed, and left for the next run if still changing.
func (p *Pipeline) walk(ctx context.Context, inboxes, roots []string, cands chan<- candidate, results chan<- result) {
	send := func(c candidate) bool {
		select {
		case cands <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var avoid []os.FileInfo // never walk into the release folder or the vault
	for _, d := range []string{p.opts.Release, p.v.Dir()} {
		if fi, err := os.Stat(d); err == nil {
			avoid = append(avoid, fi)
		}
	}
	if !p.wasClean && !p.opts.DryRun {
		for _, root := range roots {
			if err := p.recoverQuarantine(root, results); err != nil {
				// Not done: the next pipeline must look again. (Read by
				// closeTable only after this goroutine has ended.)
				p.broken = true
				results <- result{fatal: fmt.Errorf("ingest: %s: %w", filepath.Join(root, QuarantineDir), err)}
				return
			}
		}
	}
	var young []candidate
	var youngUntil time.Time
	for i, root := range roots {
		err := walkDir(root, func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			shown := filepath.Join(inboxes[i], filepath.FromSlash(rel))
			if err != nil {
				if path == root {
					return err
				}
				results <- result{ev: Event{Kind: Left, Path: shown, Message: "cannot be read: " + pathErr(err).Error()}}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path == root {
				return nil
			}
			if d.IsDir() {
				if strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir // .quarantine, and other tools' folders
				}
				if fi, err := d.Info(); err == nil {
					for _, a := range avoid {
						if os.SameFile(fi, a) {
							return fs.SkipDir
						}
					}
				}
				return nil
			}
			if isTempName(d.Name()) {
				results <- result{ev: Event{Kind: Skipped, Path: shown, Message: "hidden or temporary name"}}
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil // removed since the listing
			}
			c := candidate{root: root, rel: rel, path: shown, fi: fi}
			if fi.Mode().IsRegular() && p.opts.Settle > 0 {
				if until := fi.ModTime().Add(p.opts.Settle); time.Now().Before(until) {
					young = append(young, c)
					youngUntil = maxTime(youngUntil, until)
					return nil
				}
			}
			if !send(c) {
				return ctx.Err()
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			results <- result{fatal: err}
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	if len(young) == 0 {
		return
	}
	// A file still being copied changes within the settle time; wait it out
	// once for all of them, bounded by the settle time itself.
	wait := min(time.Until(youngUntil), p.opts.Settle)
	t := time.NewTimer(max(wait, 0))
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	for _, c := range young {
		fi, err := os.Lstat(filepath.Join(c.root, filepath.FromSlash(c.rel)))
		switch {
		case ctx.Err() != nil:
			results <- result{ev: Event{Kind: Left, Path: c.path, Message: "not taken: the run was stopped"}}
		case err != nil:
			// Gone: moved away by whoever was writing it.
		case fi.Size() != c.fi.Size() || !fi.ModTime().Equal(c.fi.ModTime()) || time.Since(fi.ModTime()) < p.opts.Settle:
			results <- result{ev: Event{Kind: Left, Path: c.path, Message: "still being written; left for the next run"}}
		default:
			c.fi = fi
			if !send(c) {
				results <- result{ev: Event{Kind: Left, Path: c.path, Message: "not taken: the run was stopped"}}
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// walkDir is filepath.WalkDir without its one cost that grows with the
// inbox: WalkDir reads and sorts a whole folder before it visits any of it
// (about 150 bytes a file: 15 MB for a folder of 100,000 photos). walkDir
// reads a folder a few hundred entries at a time and visits them in the
// order the file system lists them. fn is called as WalkDir calls it,
// including a second call with the error for a folder that cannot be read,
// and fs.SkipDir skips a folder.
func walkDir(root string, fn fs.WalkDirFunc) error {
	fi, err := os.Lstat(root)
	if err != nil {
		return fn(root, nil, err)
	}
	err = walkDirEntry(root, fs.FileInfoToDirEntry(fi), fn)
	if errors.Is(err, fs.SkipDir) || errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func walkDirEntry(path string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := fn(path, d, nil); err != nil || !d.IsDir() {
		if errors.Is(err, fs.SkipDir) && d.IsDir() {
			err = nil
		}
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fn(path, d, err)
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(256)
		for _, e := range entries {
			if err := walkDirEntry(filepath.Join(path, e.Name()), e, fn); errors.Is(err, fs.SkipDir) {
				return nil // a file's fn skips the rest of its folder
			} else if err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fn(path, d, err)
		}
	}
}
