package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
)

// quarantine sets a file aside: INBOX/.quarantine/<same relative path> plus
// <file>.reason.txt, and a quarantine record whose sealed detail says what
// exactly went wrong. The reason file is written before the move, and the
// record logged after it, so a crash leaves at worst a quarantined file
// without its record, never a file logged as quarantined but still in the
// inbox (which would be logged again).
func (p *Pipeline) quarantine(c candidate, d manifest.Detail, reason string, why error) result {
	d.Message = why.Error()
	ev := Event{Kind: Quarantined, Path: c.path, Reason: reason, Message: why.Error(), Bytes: c.fi.Size()}
	if p.opts.DryRun {
		return result{ev: ev}
	}
	if p.opts.Hook != nil {
		if err := p.opts.Hook(StepQuarantine, c.path); err != nil {
			return result{ev: Event{Kind: Left, Path: c.path, Message: "cannot be quarantined (" + why.Error() + "): " + err.Error()}}
		}
	}
	src := filepath.Join(c.root, filepath.FromSlash(c.rel))
	dst, err := quarantineTarget(filepath.Join(c.root, inbox.QuarantineDir, filepath.FromSlash(c.rel)))
	if err == nil {
		err = writeReason(dst+ReasonSuffix, reason, why, c.rel)
	}
	if err == nil {
		err = os.Rename(src, dst)
		if err != nil {
			os.Remove(dst + ReasonSuffix)
		}
	}
	if err == nil {
		err = atomicfile.SyncDir(filepath.Dir(dst))
		if serr := atomicfile.SyncDir(filepath.Dir(src)); err == nil {
			err = serr
		}
	}
	if err != nil {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "cannot be quarantined (" + why.Error() + "): " + pathErr(err).Error()}}
	}
	sealed, err := manifest.Seal(d, p.recipients)
	if err != nil {
		return result{fatal: err, ev: ev}
	}
	return result{ev: ev, rec: &manifest.Quarantine{Reason: reason, Time: p.opts.Now(), Sealed: sealed}, quarKey: p.keys.path(dst)}
}

// recoverQuarantine logs the files in root's quarantine folder that were
// moved there by a run that stopped before their record was committed (the
// move comes first, so that a file is never logged as quarantined while
// still in the inbox). A file counts as logged when the index holds a "q"
// entry for its path whose record is in the log. Only a pipeline that
// found the table not closed cleanly looks, since only an interrupted run
// leaves such files.
func (p *Pipeline) recoverQuarantine(root string, results chan<- result) error {
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
		key := p.keys.path(path)
		p.mu.Lock()
		logged, err := p.quarantineLogged(key)
		p.mu.Unlock()
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

// reasonLine is the first line of a reason file; its parenthesis is the
// quarantine record's reason.
var reasonLine = regexp.MustCompile(`^veil quarantined this file \(([a-z][a-z-]{0,31})\):$`)

// readReason returns what a reason file gives: the reason, the explanation
// and the path the file had in the inbox, or "unknown" and what is wrong for
// one that is missing or not veil's (rel is then "").
func readReason(name string) (reason, why, rel string) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "unknown", "no reason file", ""
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	m := reasonLine.FindStringSubmatch(first)
	if m == nil {
		return "unknown", "reason file not written by veil", ""
	}
	why, _, _ = strings.Cut(rest, "\n")
	if i := strings.LastIndex(rest, "\n"+reasonFrom); i >= 0 {
		rel, _, _ = strings.Cut(rest[i+1+len(reasonFrom):], "\n")
	}
	return m[1], why, rel
}

// quarantineTarget returns a free name for dst, creating its folder: a file
// quarantined twice under one name keeps both copies (name.1.jpg, ...).
func quarantineTarget(dst string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", err
	}
	ext := filepath.Ext(dst)
	stem := dst[:len(dst)-len(ext)]
	for i := 0; i < 1000; i++ {
		name := dst
		if i > 0 {
			name = stem + "." + strconv.Itoa(i) + ext
		}
		// A reason file alone is a quarantine interrupted before the
		// move: its name is free, and the reason is written again.
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
	}
	return "", fmt.Errorf("%s: too many quarantined files of that name", dst)
}

func writeReason(name, reason string, why error, rel string) error {
	f, err := atomicfile.Create(name, 0o640)
	if err != nil {
		return err
	}
	defer f.Abort()
	fmt.Fprintf(f, "veil quarantined this file (%s):\n%s\n\nFix the problem, then move the file back into the inbox; it is taken on the next run.\n%s%s\n", reason, why, reasonFrom, rel)
	return f.Commit(false)
}

// reasonFrom starts the last line of a reason file, which gives the file's
// path in the inbox (a quarantined name may have a number added).
const reasonFrom = "It was in the inbox as: "

// cleanQuarantineTemps removes the temporary files of reason files whose
// writing was interrupted, and returns how many it removed.
func cleanQuarantineTemps(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && atomicfile.IsTemp(d.Name()) && os.Remove(p) == nil {
			n++
		}
		return nil
	})
	return n
}
