package custody

import (
	"fmt"
	"strings"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
)

// Photo is a logged photo that a requested code resolves to, with the
// records that logged the same original again.
type Photo struct {
	Record     int64 // index of its ingest record
	Ingest     *manifest.Ingest
	Duplicates []Duplicate // in log order
}

// Duplicate is a record that logged the bytes of a Photo again, under
// another name or path.
type Duplicate struct {
	Record    int64
	Duplicate *manifest.Duplicate
}

// Match is what one requested code stands for: a photo code matches its
// photo, a subject code every photo of the subject, in log order.
type Match struct {
	Code   code.Code
	Photos []*Photo // never empty
}

// Subject reports whether the code is a subject code rather than a photo code.
func (m Match) Subject() bool { return m.Photos[0].Ingest.Photo != m.Code.String() }

// resolve finds the ingest records the codes name, and their duplicates,
// reading public fields only. An unknown code is an *UnknownCodesError, before
// anything is logged.
func resolve(logDir string, codes []code.Code) ([]Match, error) {
	want := map[string]bool{}
	for _, c := range codes {
		want[c.String()] = true
	}
	byCode := map[string][]*Photo{}
	photos := map[string]*Photo{}
	err := manifest.Scan(logDir, func(i int64, line []byte) error {
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("custody: record %d: %w", i, err) // verify passed, so this is a race with a writer
		}
		switch r := r.(type) {
		case *manifest.Ingest:
			if want[r.Photo] || want[r.Subject] {
				p := &Photo{Record: i, Ingest: r}
				photos[r.Photo] = p
				if want[r.Photo] {
					byCode[r.Photo] = append(byCode[r.Photo], p)
				}
				if want[r.Subject] {
					byCode[r.Subject] = append(byCode[r.Subject], p)
				}
			}
		case *manifest.Duplicate:
			if p := photos[r.Of]; p != nil {
				p.Duplicates = append(p.Duplicates, Duplicate{Record: i, Duplicate: r})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	matches := make([]Match, 0, len(codes))
	var unknown []code.Code
	for _, c := range codes {
		ps := byCode[c.String()]
		if len(ps) == 0 {
			unknown = append(unknown, c)
			continue
		}
		matches = append(matches, Match{Code: c, Photos: ps})
	}
	if len(unknown) > 0 {
		return nil, &UnknownCodesError{Codes: unknown}
	}
	return matches, nil
}

func joinCodes(codes []code.Code) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}
