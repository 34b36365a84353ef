package ingest

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/ingest/layout"
)

// A look-alike name (layout.LooseKey) is held in quarantine for staff to
// decide, never merged with nor split from the patient it resembles. The
// reason file, which is staff territory, should name the spelling it
// resembles, but the vault keeps no names: only a spelling that the inbox
// itself shows (this run's files, any file still in the inbox or in its
// quarantine) and whose subject key the index holds is named. Without one,
// the reason says so.

// errLookAlike is the hold as logs and events see it: no name.
var errLookAlike = errors.New("the patient's name resembles that of a patient already in the vault (accents, ß/ss, punctuation or the order of the names): " +
	"held for staff to decide; the reason file says how")

// heldError is a quarantine reason whose full text names patients: it goes
// only into the reason file, and everything else gets Error().
type heldError struct {
	err   error
	staff string
}

func (e *heldError) Error() string { return e.err.Error() }
func (e *heldError) Unwrap() error { return e.err }

// forStaff returns what the reason file says of why.
func forStaff(why error) error {
	var h *heldError
	if errors.As(why, &h) {
		return errors.New(h.staff)
	}
	return why
}

// spellings are the patient names the inbox shows in this run, in memory
// only: by loose key, then by subject key, the name as written.
type spellings struct {
	mu      sync.Mutex
	byLoose map[string]map[string]string
	scanned map[string]bool // inbox roots read whole
}

// note remembers the name of a placement made by the layout, if it is a
// name with valid keys.
func (s *spellings) note(place layout.Placement) {
	if place.Key == "" || place.LooseKey == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(place)
}

// add is note for a caller that holds mu.
func (s *spellings) add(place layout.Placement) {
	if s.byLoose == nil {
		s.byLoose = map[string]map[string]string{}
	}
	m := s.byLoose[place.LooseKey]
	if m == nil {
		m = map[string]string{}
		s.byLoose[place.LooseKey] = m
	}
	if _, ok := m[place.Key]; !ok {
		m[place.Key] = place.Patient
	}
}

// resembled returns the spellings the inbox root shows of names whose loose
// key is place's but whose subject key is not, reading the whole inbox and
// its quarantine the first time it is asked about root: the earlier
// spelling's files may be taken after this one, or be gone while others of
// the same folder are still there or were set aside (an unknown phase).
func (s *spellings) resembled(root string, l *layout.Layout, place layout.Placement) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.scanned[root] {
		if s.scanned == nil {
			s.scanned = map[string]bool{}
		}
		s.scanned[root] = true
		s.scan(root, l)
		s.scan(filepath.Join(root, inbox.QuarantineDir), l)
	}
	out := map[string]string{}
	for key, name := range s.byLoose[place.LooseKey] {
		if key != place.Key {
			out[key] = name
		}
	}
	return out
}

// scan adds the names of the files under dir, whose paths relative to dir
// are read by l. The caller holds mu.
func (s *spellings) scan(dir string, l *layout.Layout) {
	inbox.Walk(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || path == dir:
			return nil
		case d.IsDir() && inbox.SkipDir(d.Name()):
			return fs.SkipDir
		case d.IsDir() || inbox.SkipFile(d.Name()) || strings.HasSuffix(d.Name(), ReasonSuffix):
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return nil
		}
		if p, err := l.Match(filepath.ToSlash(rel)); (err == nil || errors.Is(err, layout.ErrPhase)) && p.Key != "" && p.LooseKey != "" {
			s.add(p)
		}
		return nil
	})
}

// lookAlike is the reason a file whose name resembles an existing
// patient's is held: the spelling it resembles if the inbox shows one
// whose subject the index holds, in the staff-only text.
func (p *Pipeline) lookAlike(c candidate, place layout.Placement) error {
	others := p.names.resembled(c.root, p.opts.Layout, place)
	keys := make([]string, 0, len(others))
	for k := range others {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one answer for one inbox
	existing := ""
	for _, k := range keys {
		if ok, err := p.ix.HasSubject(p.keys.Subject(k)); err == nil && ok {
			existing = others[k]
			break
		}
	}
	return &heldError{err: errLookAlike, staff: layout.Resemblance(strings.TrimSpace(place.Patient), existing)}
}
