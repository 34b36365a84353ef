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
// are not listed; an inbox without a quarantine has none.
func ListQuarantine(root string) ([]QuarantinedFile, error) {
	dir := filepath.Join(root, inbox.QuarantineDir)
	var out []QuarantinedFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(d.Name(), ReasonSuffix) || atomicfile.IsTemp(d.Name()) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // retried or removed meanwhile
		}
		under, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		q := QuarantinedFile{Inbox: root, Path: path, Size: fi.Size(), Since: fi.ModTime()}
		var rel string
		q.Reason, q.Why, rel = readReason(path + ReasonSuffix)
		if rfi, err := os.Stat(path + ReasonSuffix); err == nil {
			q.Since = rfi.ModTime()
			q.Ticket = readTicket(path + ReasonSuffix)
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
	return out, nil
}

// readTicket returns the ticket a reason file gives, or "".
func readTicket(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
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
	rel := filepath.FromSlash(q.Rel)
	if !filepath.IsLocal(rel) || slices.ContainsFunc(strings.Split(q.Rel, "/"), inbox.SkipDir) {
		return "", fmt.Errorf("ingest: retry %s: %q is %w", q.Path, q.Rel, ErrRetryTarget)
	}
	dst := filepath.Join(q.Inbox, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", fmt.Errorf("ingest: retry: %w", err)
	}
	if err := moveNoReplace(q.Path, dst); err != nil {
		return "", fmt.Errorf("ingest: retry %s: %w", q.Path, err)
	}
	if err := os.Remove(q.Path + ReasonSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return dst, fmt.Errorf("ingest: retry: moved to %s, but its reason file stays: %w", dst, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dst)); err != nil {
		return dst, fmt.Errorf("ingest: retry: %w", err)
	}
	return dst, atomicfile.SyncDir(filepath.Dir(q.Path))
}

// moveNoReplace renames src to dst unless dst exists. A hard link refuses an
// existing name atomically; where the file system has no hard links, a check
// then a rename is the best there is.
func moveNoReplace(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil {
		return os.Remove(src)
	}
	if errors.Is(err, fs.ErrExist) {
		return &fs.PathError{Op: "retry", Path: dst, Err: fs.ErrExist}
	}
	if _, err := os.Lstat(dst); err == nil {
		return &fs.PathError{Op: "retry", Path: dst, Err: fs.ErrExist}
	}
	return os.Rename(src, dst)
}
