package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
)

// QuarantinedFile is a file in an inbox's quarantine, with what its reason file
// says. Path, Rel and Why can name a patient: they are for staff at a
// terminal, not for logs.
type QuarantinedFile struct {
	Inbox   string    // the inbox folder, as given
	Path    string    // the file, under INBOX/.quarantine
	Rel     string    // where it was in the inbox (slash-separated), from the reason file; else its place under .quarantine
	Reason  string    // category, as in the quarantine record; "unknown" without a reason file of veil's
	Why     string    // what exactly went wrong, or what is wrong with the reason file
	Ticket  string    // the ticket the logs name it by, if the reason file has one
	Size    int64     // bytes
	Since   time.Time // when it was quarantined: its reason file's time, else the file's
	Unknown bool      // the reason file is missing or not veil's: Rel is only its place under .quarantine
}

// ListQuarantine returns the files in the quarantine of the inbox root,
// sorted by path. Reason files and the temporary files of unfinished ones
// are not listed; an inbox without a quarantine has none. A quarantine that
// is a symbolic link is not read (an error wrapping errQuarantineLink).
func ListQuarantine(root string) ([]QuarantinedFile, error) {
	in, err := os.OpenRoot(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no inbox, no quarantine (CheckInbox tells)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: quarantine of %s: %w", root, err)
	}
	defer in.Close()
	return listQuarantine(in, root)
}

// listQuarantine is ListQuarantine through the inbox's Root, in: staff can
// write in the quarantine, and nothing they put there may lead outside.
func listQuarantine(in *os.Root, root string) ([]QuarantinedFile, error) {
	var out []QuarantinedFile
	err := inbox.WalkRoot(in, inbox.QuarantineDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == inbox.QuarantineDir {
				return nil
			}
			return err
		}
		if path == inbox.QuarantineDir && d.Type()&fs.ModeSymlink != 0 {
			return errQuarantineLink
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), ReasonSuffix) || atomicfile.IsTemp(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // retried or removed meanwhile
		}
		under, err := filepath.Rel(inbox.QuarantineDir, path)
		if err != nil {
			return err
		}
		q := QuarantinedFile{Inbox: root, Path: filepath.Join(root, path), Size: fi.Size(), Since: fi.ModTime()}
		b, err := readReasonFile(filekind.OpenRegularIn(in, path+ReasonSuffix))
		var rel string
		q.Reason, q.Why, rel = parseReason(b, err)
		if rfi, err := in.Lstat(path + ReasonSuffix); err == nil && b != nil {
			q.Since = rfi.ModTime()
			q.Ticket = parseTicket(b)
		}
		q.Rel = rel
		if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
			q.Rel, q.Unknown = filepath.ToSlash(under), true
		}
		out = append(out, q)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: quarantine of %s: %w", root, err)
	}
	// In the order filepath.WalkDir visits: folder by folder, by name.
	byFolder := func(q QuarantinedFile) string { return strings.ReplaceAll(filepath.ToSlash(q.Path), "/", "\x00") }
	slices.SortFunc(out, func(a, b QuarantinedFile) int { return strings.Compare(byFolder(a), byFolder(b)) })
	return out, nil
}

// parseTicket returns the ticket a reason file gives, or "".
func parseTicket(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if t, ok := strings.CutPrefix(line, reasonTicket); ok {
			return t
		}
	}
	return ""
}

// ErrRetryTarget is wrapped when a quarantined file cannot go back because
// its place in the inbox is not one: outside the inbox, or in a hidden
// folder a pass never walks into.
var ErrRetryTarget = errors.New("not a place in the inbox a run takes files from")

// Retry moves q back to where it was in its inbox, for the next run to take,
// and removes its reason file. It never replaces a file (an error wrapping
// fs.ErrExist: someone copied the photo again meanwhile) and returns the
// path it moved the file to.
func Retry(q QuarantinedFile) (string, error) {
	in, err := os.OpenRoot(q.Inbox)
	if err != nil {
		return "", fmt.Errorf("ingest: retry: %w", err)
	}
	defer in.Close()
	return retry(in, q)
}

// retry is Retry through the inbox's Root, in: the move, the folders it
// makes and the removal of the reason file never leave the inbox, and a
// quarantine folder that is a link is refused (errQuarantineLink).
func retry(in *os.Root, q QuarantinedFile) (string, error) {
	rel := filepath.FromSlash(q.Rel)
	if !filepath.IsLocal(rel) || slices.ContainsFunc(strings.Split(q.Rel, "/"), inbox.SkipDir) {
		return "", fmt.Errorf("ingest: retry %s: %q is %w", q.Path, q.Rel, ErrRetryTarget)
	}
	src, err := filepath.Rel(q.Inbox, q.Path)
	if err != nil || !filepath.IsLocal(src) || strings.Split(filepath.ToSlash(src), "/")[0] != inbox.QuarantineDir {
		return "", fmt.Errorf("ingest: retry %s: not in the quarantine of %s", q.Path, q.Inbox)
	}
	dir := ""
	for _, part := range strings.Split(filepath.Dir(src), string(filepath.Separator)) {
		dir = filepath.Join(dir, part)
		if fi, err := in.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("ingest: retry %s: %w", q.Path, errQuarantineLink)
		}
	}
	dst := filepath.Join(q.Inbox, rel)
	if err := in.MkdirAll(filepath.Dir(rel), 0o750); err != nil {
		return "", fmt.Errorf("ingest: retry: %w", err)
	}
	if err := moveNoReplace(in, src, rel); err != nil {
		return "", fmt.Errorf("ingest: retry %s: %w", q.Path, err)
	}
	if err := in.Remove(src + ReasonSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return dst, fmt.Errorf("ingest: retry: moved to %s, but its reason file stays: %w", dst, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return dst, fmt.Errorf("ingest: retry: %w", err)
	}
	return dst, atomicfile.SyncDir(filepath.Dir(q.Path))
}

// moveNoReplace renames src to dst, both in the inbox in, unless dst
// exists. A hard link refuses an existing name atomically; where the file
// system has no hard links, a check then a rename is the best there is.
func moveNoReplace(in *os.Root, src, dst string) error {
	err := in.Link(src, dst)
	if err == nil {
		return in.Remove(src)
	}
	if errors.Is(err, fs.ErrExist) {
		return &fs.PathError{Op: "retry", Path: dst, Err: fs.ErrExist}
	}
	if _, err := in.Lstat(dst); err == nil {
		return &fs.PathError{Op: "retry", Path: dst, Err: fs.ErrExist}
	}
	return in.Rename(src, dst)
}
