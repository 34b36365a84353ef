package custody

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/veil-photo/veil/ingest/layout"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// How says how a subject matched a query.
type How string

// The ways a query matches. Names are compared under the folding ingest
// uses for subject keys, so that a name finds the subject ingest filed it
// under; a name that differs only under looser folding is reported
// separately, as ingest would have held it for review.
const (
	ByName    How = "name"         // layout.NormalizeName equal: the same subject key
	BySimilar How = "similar name" // only layout.LooseKey equal: accents, ß, punctuation or word order differ
	ByID      How = "id"           // an ID in the folders of the original path, under layout.NormalizeID
)

// FindRequest is a custodian's search for patients. The queries are PHI and
// are never logged; the reason is, and must not name a patient.
type FindRequest struct {
	Queries []string // patient names, or IDs (a query holding a digit)
	Reason  string
	Pinned  []byte // as Request.Pinned
}

// Find is a logged search: the access record that logged it, and what each
// query found.
type Find struct {
	Record     int64    // index of the access record in the log
	Answers    []Answer // one per query, in request order
	Unreadable int      // ingest records whose sealed detail this identity could not open: the answers may miss them
	Receipt    []byte   // the signed checkpoint that covers the access record
}

// Answer is what one query found.
type Answer struct {
	Query    string
	Subjects []Found // exact matches (name or ID) first, then similar names; each in log order
}

// Found is a subject that a query matched.
type Found struct {
	Subject code.Code
	How     How
	Names   []string     // the patient names as written in the inbox that matched, each once (PHI)
	Photos  []FoundPhoto // every photo of the subject, in log order
}

// FoundPhoto is a photo of a found subject, from the public record.
type FoundPhoto struct {
	Record int64
	Photo  code.Code
	Phase  string
}

// ErrEmptyQuery is returned for a query that is empty once normalized: it
// would match nothing or, worse, every photo filed without a name.
var ErrEmptyQuery = errors.New("custody: find: a query is empty once normalized")

// query is a FindRequest query in the forms it is compared in.
type query struct {
	name, loose string // NormalizeName and LooseKey, for a name query
	id          string // NormalizeID, for an ID query
}

func parseQuery(q string) (query, error) {
	if strings.ContainsFunc(q, unicode.IsDigit) {
		id, err := layout.NormalizeID(q)
		if err != nil {
			return query{}, fmt.Errorf("custody: find: %w", err)
		}
		return query{id: id}, nil
	}
	n := layout.NormalizeName(q)
	if n == "" {
		return query{}, ErrEmptyQuery
	}
	return query{name: n, loose: layout.LooseKey(q)}, nil
}

// match says how a sealed detail matches q, or "".
func (q query) match(d manifest.Detail) How {
	id, name := sealedPatient(d.PatientKey)
	if q.id != "" {
		if id != "" {
			if n, err := layout.NormalizeID(id); err == nil && n == q.id {
				return ByID
			}
			return ""
		}
		if slices.Contains(pathIDs(d), q.id) {
			return ByID
		}
		return ""
	}
	if name == "" {
		return ""
	}
	switch {
	case layout.NormalizeName(name) == q.name:
		return ByName
	case layout.LooseKey(name) == q.loose:
		return BySimilar
	}
	return ""
}

// sealedIDPrefix starts a sealed patient key that holds the ID a layout
// read: ingest seals "id:<ID> <name>", or "id:<ID>" without a name, since
// manifest.Detail has no field of its own for the ID. An ID holds no space,
// so the name is what follows the first one.
const sealedIDPrefix = "id:"

// sealedPatient splits a sealed patient key into the ID (if any) and the
// name as written in the inbox.
func sealedPatient(key string) (id, name string) {
	rest, ok := strings.CutPrefix(key, sealedIDPrefix)
	if !ok {
		return "", key
	}
	id, name, _ = strings.Cut(rest, " ")
	return id, name
}

// pathIDs returns the words of the original path's folders that could be a
// patient ID, normalized. Records sealed before ingest kept the ID (see
// sealedIDPrefix) have only the name, so an ID is looked for where the
// layout found it: in a folder name, set off by '/' or a character an ID cannot hold (see
// layout.NormalizeID). The phase as written is left out ("2 weeks post" is
// not patient 2); other words of the path (the inbox's own folders) can
// match an ID query only if they hold a digit and equal it exactly.
func pathIDs(d manifest.Detail) []string {
	dir := d.Path
	if i := strings.LastIndexAny(dir, `/\`); i >= 0 {
		dir = dir[:i]
	} else {
		dir = ""
	}
	notID := func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '-' || r == '.')
	}
	phase := strings.FieldsFunc(d.Phase, notID)
	var ids []string
	for _, w := range strings.FieldsFunc(dir, notID) {
		if !strings.ContainsFunc(w, unicode.IsDigit) || slices.Contains(phase, w) {
			continue
		}
		if id, err := layout.NormalizeID(w); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// Find searches the sealed details of every ingest record for the patients
// req names, and logs the search before it answers: the access record
// (action find, the subject codes found, possibly none, and the reason) is
// signed by the custodian and synced with a new checkpoint before Find
// returns. Unlike reveal, which logs before it decrypts, a search has to
// decrypt to know what it found; nothing of it leaves Find unless the record
// is on disk. It refuses, logging nothing, as an access does (*DirtyLogError,
// ErrNotCustodian, a locked vault) or for an empty query.
//
// Find opens every ingest record's sealed detail: its cost grows with the
// log (one X25519 decryption per photo).
func (cv *Vault) Find(ctx context.Context, id *vault.Custodian, req FindRequest) (*Find, error) {
	qs := make([]query, len(req.Queries))
	for i, q := range req.Queries {
		var err error
		if qs[i], err = parseQuery(q); err != nil {
			return nil, err
		}
	}
	lock, err := cv.begin(ctx, id, manifest.ActionFind, req.Pinned)
	if err != nil {
		return nil, err
	}
	defer lock.Release()

	// Pass one opens the sealed details and notes, per query, the subjects
	// found; pass two reads the public records of those subjects only.
	f := &Find{Answers: make([]Answer, len(qs))}
	found := make([]map[code.Code]*Found, len(qs))
	order := make([][]code.Code, len(qs)) // subjects per query, in the order found
	for i := range found {
		found[i] = map[code.Code]*Found{}
	}
	logDir := cv.v.LogDir()
	err = manifest.Scan(logDir, func(i int64, line []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("custody: record %d: %w", i, err) // verify passed, so this is a race with a writer
		}
		in, ok := r.(*manifest.Ingest)
		if !ok {
			return nil
		}
		d, err := manifest.Unseal(in.Sealed, id.Identity)
		if err != nil {
			f.Unreadable++
			return nil
		}
		for qi, q := range qs {
			how := q.match(d)
			if how == "" {
				continue
			}
			s, _ := code.Parse(in.Subject)
			fs := found[qi][s]
			if fs == nil {
				fs = &Found{Subject: s, How: how}
				found[qi][s] = fs
				order[qi] = append(order[qi], s)
			} else if fs.How == BySimilar && how != BySimilar {
				fs.How = how
			}
			if _, name := sealedPatient(d.PatientKey); name != "" && !slices.Contains(fs.Names, name) {
				fs.Names = append(fs.Names, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	var codes []code.Code
	bySubject := map[code.Code][]*Found{}
	for qi := range f.Answers {
		a := &f.Answers[qi]
		a.Query = req.Queries[qi]
		for _, s := range order[qi] {
			a.Subjects = append(a.Subjects, *found[qi][s])
			if !slices.Contains(codes, s) {
				codes = append(codes, s)
			}
		}
		slices.SortStableFunc(a.Subjects, func(x, y Found) int {
			return boolInt(x.How == BySimilar) - boolInt(y.How == BySimilar)
		})
		for si := range a.Subjects {
			bySubject[a.Subjects[si].Subject] = append(bySubject[a.Subjects[si].Subject], &a.Subjects[si])
		}
	}
	if len(bySubject) > 0 {
		err = manifest.Scan(logDir, func(i int64, line []byte) error {
			r, err := manifest.Parse(line)
			if err != nil {
				return fmt.Errorf("custody: record %d: %w", i, err)
			}
			if in, ok := r.(*manifest.Ingest); ok {
				s, _ := code.Parse(in.Subject)
				p, _ := code.Parse(in.Photo)
				for _, fs := range bySubject[s] {
					fs.Photos = append(fs.Photos, FoundPhoto{Record: i, Photo: p, Phase: in.Phase})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	if f.Record, f.Receipt, err = appendAccess(cv.v, id, manifest.ActionFind, Request{Codes: codes, Reason: req.Reason}); err != nil {
		return nil, err
	}
	return f, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
