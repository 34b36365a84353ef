package ingest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

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
	// Every step goes through the inbox's Root: staff can write in the
	// quarantine, and a link there must not carry the photo and its
	// reason file (which names the patient) out of the inbox.
	src := c.name()
	dst, err := quarantineTarget(c.in, filepath.Join(inbox.QuarantineDir, src))
	if err == nil {
		err = writeReason(c.in, dst+ReasonSuffix, reason, forStaff(why), ev.Ticket, c.rel)
	}
	if err == nil {
		err = linked(c.in, src, c.in.Rename(src, dst))
		if err != nil {
			c.in.Remove(dst + ReasonSuffix)
		}
	}
	if err == nil {
		err = atomicfile.SyncDir(filepath.Join(c.root, filepath.Dir(dst)))
		left := filepath.Join(c.root, filepath.Dir(src))
		if !p.opts.KeepSource {
			left = removeEmptied(c.in, left, filepath.Dir(src))
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
	return result{ev: ev, rec: &manifest.Quarantine{Reason: reason, Time: p.opts.Now(), Sealed: sealed}, quarKey: p.keys.Path(filepath.Join(c.root, dst))}
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
// one that is missing or not veil's (rel is then ""). Staff can write in
// the quarantine: a link or a FIFO named like a reason file is not read.
func readReason(name string) (reason, why, rel string) {
	return parseReason(readReasonFile(filekind.OpenRegular(name)))
}

// maxReason bounds what is read of a reason file; veil's are a few lines.
const maxReason = 64 << 10

// readReasonFile reads an opened reason file, up to maxReason bytes.
func readReasonFile(f *os.File, _ fs.FileInfo, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxReason))
}

// parseReason is readReason of the bytes of a reason file.
func parseReason(b []byte, err error) (reason, why, rel string) {
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

// errQuarantineLink is returned when the quarantine folder of an inbox, or
// a folder in it, is a symbolic link: veil never made one, so someone who
// can write in the inbox is trying to send a quarantined photo, and its
// reason file, somewhere else (or to bring something in). Nothing is read
// or written through it.
var errQuarantineLink = errors.New(inbox.QuarantineDir + ", or a folder in it, is a symbolic link, which veil never reads or writes through (someone may be tampering with the inbox: remove the link)")

// quarantineTarget returns a free name for dst (a path in the inbox in),
// creating its folder: a file quarantined twice under one name keeps both
// copies (name.1.jpg, ...). Its folders are group-writable so that staff
// (the inbox's group, inherited through setgid) can move a fixed file back
// out, as the reason file says.
func quarantineTarget(in *os.Root, dst string) (string, error) {
	if err := quarantineFolder(in, filepath.Dir(dst)); err != nil {
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
		if _, err := in.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
	}
	return "", fmt.Errorf("%s: too many quarantined files of that name", dst)
}

// quarantineFolder makes the folder dir of the inbox in, and each missing
// parent, refusing any of them that is a symbolic link (errQuarantineLink)
// or not a folder. in keeps a link swapped in after the look inside the
// inbox all the same.
func quarantineFolder(in *os.Root, dir string) error {
	path := ""
	for _, part := range strings.Split(dir, string(filepath.Separator)) {
		path = filepath.Join(path, part)
		fi, err := in.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			if err = in.Mkdir(path, 0o770); errors.Is(err, fs.ErrExist) {
				fi, err = in.Lstat(path) // made meanwhile by another worker
			}
		}
		switch {
		case err != nil:
			return err
		case fi == nil:
		case fi.Mode()&fs.ModeSymlink != 0:
			return errQuarantineLink
		case !fi.IsDir():
			return &fs.PathError{Op: "mkdir", Path: path, Err: syscall.ENOTDIR}
		}
	}
	return nil
}

// writeReason writes the reason file name, in the inbox in, durably: into
// a temporary file renamed into place, as atomicfile does.
func writeReason(in *os.Root, name, reason string, why error, ticket, rel string) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(name), atomicfile.TempPrefix+"reason-"+hex.EncodeToString(rnd[:]))
	f, err := in.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "veil quarantined this file (%s):\n%s\n\nFix the problem, then move the file back into the inbox; it is taken on the next run.\n%s%s\n%s%s\n", reason, why, reasonTicket, ticket, reasonFrom, rel)
	if err == nil {
		err = f.Chmod(0o640) // whatever the umask
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = in.Rename(tmp, name)
	}
	if err != nil {
		in.Remove(tmp)
	}
	return err
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
// writing was interrupted in the quarantine of the inbox in, and returns
// how many it removed.
func cleanQuarantineTemps(in *os.Root) int {
	n := 0
	inbox.WalkRoot(in, inbox.QuarantineDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && atomicfile.IsTemp(d.Name()) && in.Remove(p) == nil {
			n++
		}
		return nil
	})
	return n
}
