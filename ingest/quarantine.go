package ingest

import (
	"crypto/rand"
	"encoding/hex"
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
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
)

// ReasonSuffix ends the name of the reason file written beside a quarantined file.
const ReasonSuffix = ".reason.txt"

// setAside sets a file aside: INBOX/.quarantine/<same relative path> plus
// <file>.reason.txt, and a quarantine record whose sealed detail says what
// exactly went wrong. The reason file is written before the move, and the
// record logged after it, so a crash leaves at worst a quarantined file
// without its record, never a file logged as quarantined but still in the
// inbox (which would be logged again).
func (vc *vaultCommitter) setAside(c candidate, d manifest.Detail, reason string, why error) result {
	p := vc.p
	d.Message = why.Error()
	ev := Event{Kind: Quarantined, Path: c.path, Reason: reason, Message: why.Error(), Bytes: c.fi.Size(), Ticket: newTicket()}
	if err := p.hook(StepQuarantine, c.path); err != nil {
		return stuckQuarantine(c, reason, err)
	}
	src := c.full()
	dst, err := quarantineTarget(filepath.Join(c.root, inbox.QuarantineDir, filepath.FromSlash(c.rel)))
	if err == nil {
		err = writeReason(dst+ReasonSuffix, reason, forStaff(why), ev.Ticket, c.rel)
	}
	if err == nil {
		err = os.Rename(src, dst)
		if err != nil {
			os.Remove(dst + ReasonSuffix)
		}
	}
	if err == nil {
		err = atomicfile.SyncDir(filepath.Dir(dst))
		left := filepath.Dir(src)
		if !p.opts.KeepSource {
			left = removeEmptied(c.root, left)
		}
		if serr := atomicfile.SyncDir(left); err == nil {
			err = serr
		}
	}
	if err != nil {
		return stuckQuarantine(c, reason, err)
	}
	sealed, err := manifest.Seal(d, p.recipients)
	if err != nil {
		return result{fatal: err, ev: ev}
	}
	return result{ev: ev, rec: &manifest.Quarantine{Reason: reason, Time: p.opts.Now(), Sealed: sealed}, quarKey: p.keys.Path(dst)}
}

// stuckQuarantine reports a file that should have gone to quarantine for
// reason but could not be moved there: it stays in the inbox, and the next
// run meets the same wall.
func stuckQuarantine(c candidate, reason string, err error) result {
	return result{ev: Event{Kind: Stuck, Path: c.path, Reason: reason,
		Message: "should be quarantined (" + reason + ") but cannot be moved there: " + bareErr(err).Error() +
			permissionHint(err, "write access to its folder and to "+inbox.QuarantineDir) + "; or move it out of the inbox by hand"}}
}

// bareErr is err without the paths of a failed rename, which are in the
// event already.
func bareErr(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return filekind.Bare(err)
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
// Its folders are group-writable so that staff (the inbox's group, inherited
// through setgid) can move a fixed file back out, as the reason file says.
func quarantineTarget(dst string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o770); err != nil {
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

func writeReason(name, reason string, why error, ticket, rel string) error {
	f, err := atomicfile.Create(name, 0o640)
	if err != nil {
		return err
	}
	defer f.Abort()
	fmt.Fprintf(f, "veil quarantined this file (%s):\n%s\n\nFix the problem, then move the file back into the inbox; it is taken on the next run.\n%s%s\n%s%s\n", reason, why, reasonTicket, ticket, reasonFrom, rel)
	return f.Commit(false)
}

// reasonFrom starts the last line of a reason file, which gives the file's
// path in the inbox (a quarantined name may have a number added).
const reasonFrom = "It was in the inbox as: "

// reasonTicket starts the line of a reason file that gives the ticket the
// logs name the file by.
const reasonTicket = "Ticket: "

// newTicket returns a short random name for a quarantined file: random, not
// derived from the path, so that it says nothing about the patient.
func newTicket() string {
	var b [5]byte
	rand.Read(b[:])
	return "q-" + hex.EncodeToString(b[:])
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
