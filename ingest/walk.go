package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/filekind"
)

// walk sends every candidate file of the inboxes to cands, streaming so that
// memory does not grow with the inbox. Hidden and temporary names are
// reported as skipped; files written to within the settle time are looked
// at again once it has passed, and left for the next run if still changing.
func (p *Pipeline) walk(ctx context.Context, inboxes, roots []string, dirs []*os.Root, cands chan<- candidate, results chan<- result) {
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
	for _, root := range roots {
		if err := p.commit.recoverQuarantine(root, results); err != nil {
			// Not done: the next pipeline must look again.
			p.ix.Break()
			results <- result{fatal: fmt.Errorf("ingest: %s: %w", filepath.Join(root, inbox.QuarantineDir), err)}
			return
		}
	}
	var young []candidate
	var youngUntil time.Time
	for i, root := range roots {
		err := inbox.WalkRoot(dirs[i], ".", func(path string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rel := filepath.ToSlash(path)
			shown := filepath.Join(inboxes[i], path)
			if err != nil {
				if path == "." {
					return fmt.Errorf("ingest: inbox %s: %w", inboxes[i], filekind.Bare(err))
				}
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed since it was listed (veil removes the folders it empties)
				}
				results <- result{ev: unreadable(shown, d, err)}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path == "." {
				return nil
			}
			if d.IsDir() {
				if inbox.SkipDir(d.Name()) {
					return fs.SkipDir // .quarantine, and other tools' folders
				}
				if pat, ok := p.excluded(rel); ok {
					results <- result{ev: Event{Kind: Excluded, Path: shown, Message: "folder excluded by the pattern " + pat}}
					return fs.SkipDir
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
			if inbox.SkipFile(d.Name()) {
				results <- result{ev: Event{Kind: Skipped, Path: shown, Message: "hidden or temporary name"}}
				return nil
			}
			if pat, ok := p.excluded(rel); ok {
				results <- result{ev: Event{Kind: Excluded, Path: shown, Message: "excluded by the pattern " + pat}}
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil // removed since the listing
			}
			c := candidate{root: root, in: dirs[i], rel: rel, path: shown, fi: fi}
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
		fi, err := c.in.Lstat(c.name())
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

// excluded returns the pattern of Options.Exclude that the inbox entry at
// rel (slash-separated) matches, by its base name or its whole path.
// Matching ignores case: staff's file systems do (NTFS, APFS), and the
// same camera writes IMG_0001.MOV and img_0001.mov depending on how it
// was imported.
func (p *Pipeline) excluded(rel string) (string, bool) {
	low := strings.ToLower(rel)
	base := path.Base(low)
	for _, pat := range p.opts.Exclude {
		lp := strings.ToLower(pat)
		if ok, _ := path.Match(lp, base); ok {
			return pat, true
		}
		if ok, _ := path.Match(lp, low); ok {
			return pat, true
		}
	}
	return "", false
}

// CheckExclude reports a malformed Options.Exclude pattern.
func CheckExclude(pattern string) error {
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("ingest: exclude pattern %q: %w", pattern, err)
	}
	return nil
}

// unreadable reports an inbox entry the walk cannot read: a folder whose
// photos were not even looked at, or a file. It is stuck, not left: the
// next run cannot read it either.
func unreadable(shown string, d fs.DirEntry, err error) Event {
	what := "cannot be read: "
	if d != nil && d.IsDir() {
		what = "folder cannot be read, the photos in it were not looked at: "
	}
	return Event{Kind: Stuck, Path: shown, Message: what + filekind.Bare(err).Error() + permissionHint(err, "read access to it")}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
