package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

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
	dst, err := quarantineTarget(filepath.Join(c.root, QuarantineDir, filepath.FromSlash(c.rel)))
	if err == nil {
		err = writeReason(dst+ReasonSuffix, reason, why)
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
	return result{ev: ev, rec: &manifest.Quarantine{Reason: reason, Time: p.opts.Now(), Sealed: sealed}}
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

func writeReason(name, reason string, why error) error {
	f, err := atomicfile.Create(name, 0o640)
	if err != nil {
		return err
	}
	defer f.Abort()
	fmt.Fprintf(f, "veil quarantined this file (%s):\n%s\n\nFix the problem, then move the file back into the inbox; it is taken on the next run.\n", reason, why)
	return f.Commit(false)
}

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
