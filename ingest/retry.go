package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/veil-photo/veil/ingest/inbox"
)

// ticketPattern is the shape of a quarantine ticket (see newTicket).
var ticketPattern = regexp.MustCompile(`^q-[0-9a-f]{10}$`)

// IsTicket reports whether s has the shape of a quarantine ticket, the name
// the logs give a quarantined file instead of its path.
func IsTicket(s string) bool { return ticketPattern.MatchString(s) }

// QuarantineInbox returns the inbox of a path inside an inbox's quarantine,
// and false for a path outside every quarantine.
func QuarantineInbox(path string) (string, bool) {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
	i := slices.Index(parts, inbox.QuarantineDir)
	if i < 0 {
		return "", false
	}
	in := filepath.FromSlash(strings.Join(parts[:i], "/"))
	if in == "" {
		in = "."
		if filepath.IsAbs(path) {
			in = string(filepath.Separator)
		}
	}
	return in, true
}

// CheckInbox says which inbox is not a folder, before anything in its
// quarantine is listed or moved.
func CheckInbox(in string) error {
	fi, err := os.Stat(in)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", in, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("inbox %s is not a folder", in)
	}
	return nil
}

// RetryRequest is which quarantined files to move back into their inboxes.
type RetryRequest struct {
	Inboxes []string // the inboxes whose quarantine is looked in, each once
	Tickets []string // files asked for by ticket
	Paths   []string // files asked for by absolute path in a quarantine, or a folder of them
}

// ParseRetry sorts the arguments of a retry: each is a ticket, a path inside
// an inbox's quarantine (which brings its inbox along), or an inbox. Without
// tickets or paths every quarantined file of the inboxes is asked for.
func ParseRetry(args []string) (RetryRequest, error) {
	var r RetryRequest
	for _, a := range args {
		switch in, ok := QuarantineInbox(a); {
		case IsTicket(a):
			r.Tickets = append(r.Tickets, a)
		case ok:
			abs, err := filepath.Abs(a)
			if err != nil {
				return RetryRequest{}, fmt.Errorf("ingest: retry %s: %w", a, err)
			}
			r.Paths = append(r.Paths, abs)
			if !slices.Contains(r.Inboxes, in) {
				r.Inboxes = append(r.Inboxes, in)
			}
		default:
			if !slices.Contains(r.Inboxes, a) {
				r.Inboxes = append(r.Inboxes, a)
			}
		}
	}
	return r, nil
}

// Selects reports whether q is one of the files r asks for.
func (r RetryRequest) Selects(q QuarantinedFile) bool {
	if len(r.Tickets) == 0 && len(r.Paths) == 0 {
		return true
	}
	if q.Ticket != "" && slices.Contains(r.Tickets, q.Ticket) {
		return true
	}
	abs, err := filepath.Abs(q.Path)
	return err == nil && slices.ContainsFunc(r.Paths, func(p string) bool {
		return abs == p || strings.HasPrefix(abs, p+string(filepath.Separator))
	})
}

// RetryAll retries (see Retry) every file r selects, inbox by inbox, and
// calls done with each: the path it went back to, or why it could not. It
// returns the tickets no quarantined file had. It stops at an inbox that is
// not a folder or whose quarantine cannot be listed.
func RetryAll(r RetryRequest, done func(q QuarantinedFile, dst string, err error)) (missing []string, err error) {
	found := map[string]bool{}
	for _, in := range r.Inboxes {
		if err := retryInbox(in, r, found, done); err != nil {
			return nil, err
		}
	}
	for _, t := range r.Tickets {
		if !found[t] {
			missing = append(missing, t)
		}
	}
	return missing, nil
}

// retryInbox is RetryAll for the inbox in, through one Root, noting in
// found the tickets it met.
func retryInbox(in string, r RetryRequest, found map[string]bool, done func(q QuarantinedFile, dst string, err error)) error {
	if err := CheckInbox(in); err != nil {
		return err
	}
	root, err := os.OpenRoot(in)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", in, errors.Unwrap(err))
	}
	defer root.Close()
	qs, err := listQuarantine(root, in)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if !r.Selects(q) {
			continue
		}
		found[q.Ticket] = true
		dst, err := retry(root, q)
		done(q, dst, err)
	}
	return nil
}

// RetryProblem is the kind of a failed retry, which a log may carry where
// the error itself, naming paths, may not.
func RetryProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrExist):
		return "a file is already at its old place in the inbox"
	case errors.Is(err, ErrRetryTarget):
		return "its reason file names no place in the inbox"
	case errors.Is(err, errQuarantineLink):
		return "a folder of the quarantine is a symbolic link"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return "it could not be moved"
}
