package gallery

import (
	"cmp"
	"slices"
	"strings"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/release"
)

// photoView is one photo as the pages show it: only what index.csv holds,
// and the site's own file names.
type photoView struct {
	Row     release.Row
	Preview string // site-relative, empty when the photo has no image
	Thumb   string
	Missing string // why there is no image, for the placeholder
	File    string // the released file, relative to the site
}

// Label is the phase with its interval: "before", "followup P6M".
func (p photoView) Label() string {
	if p.Row.Interval == "" {
		return p.Row.Phase
	}
	return p.Row.Phase + " " + p.Row.Interval
}

// FormatName is the format as people write it.
func (p photoView) FormatName() string { return strings.ToUpper(p.Row.Format) }

// subjectView is one subject: its photos in clinical order.
type subjectView struct {
	Code   code.Code
	Photos []photoView
	Before *photoView // the pair of the index card: the first before...
	After  *photoView // ...and the latest after or follow-up
	Prev   *subjectView
	Next   *subjectView
}

// Page is the subject page's path in the site.
func (s *subjectView) Page() string { return pageDir + "/" + s.Code.String() + ".html" }

// Phases lists the subject's phases with intervals, in clinical order, once each.
func (s *subjectView) Phases() []string {
	var out []string
	for _, p := range s.Photos {
		if l := p.Label(); !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// PhaseWords lists the subject's phases without intervals, for the filter.
func (s *subjectView) PhaseWords() string {
	var out []string
	for _, p := range s.Photos {
		if !slices.Contains(out, p.Row.Phase) {
			out = append(out, p.Row.Phase)
		}
	}
	return strings.Join(out, " ")
}

// HasPair says whether the subject has both a before and an after (or
// follow-up) photo: the cases a before/after gallery is for.
func (s *subjectView) HasPair() bool {
	before, after := false, false
	for _, p := range s.Photos {
		switch phaseRank(p.Row.Phase) {
		case 0:
			before = true
		case 2:
			after = true
		}
	}
	return before && after
}

// phaseRank orders the phases of a treatment: before, during, after.
// after and followup share a rank: their intervals order them.
func phaseRank(phase string) int {
	switch phase {
	case "before":
		return 0
	case "intraop":
		return 1
	case "after", "followup":
		return 2
	}
	return 3
}

// intervalDays is an ISO 8601 duration as index.csv writes it (P2W, P6M,
// P1Y6M) in approximate days, only to order photos; no interval is 0.
func intervalDays(s string) int {
	days, n := 0, 0
	for _, c := range strings.TrimPrefix(s, "P") {
		if '0' <= c && c <= '9' {
			n = n*10 + int(c-'0')
			continue
		}
		days += n * map[rune]int{'Y': 365, 'M': 30, 'W': 7, 'D': 1}[c]
		n = 0
	}
	return days
}

// groupSubjects turns the rows into subjects, ordered by code (a random
// code gives no order to keep), each with its photos in clinical order:
// before, intraop, then after and follow-up by interval, and index.csv's
// order (the log's) among equals. missing names the photos without images.
func groupSubjects(rows []release.Row, missing map[code.Code]string, releaseRel string) []*subjectView {
	by := map[code.Code]*subjectView{}
	var subjects []*subjectView
	for _, row := range rows {
		s := by[row.Subject]
		if s == nil {
			s = &subjectView{Code: row.Subject}
			by[row.Subject] = s
			subjects = append(subjects, s)
		}
		v := photoView{Row: row, File: releaseRel + "/" + row.Path()}
		if why, ok := missing[row.Photo]; ok {
			v.Missing = why
		} else {
			out := outputs(row.Photo)
			v.Preview, v.Thumb = out[0], out[1]
		}
		s.Photos = append(s.Photos, v)
	}
	slices.SortFunc(subjects, func(a, b *subjectView) int { return strings.Compare(a.Code.String(), b.Code.String()) })
	for i, s := range subjects {
		slices.SortStableFunc(s.Photos, func(a, b photoView) int {
			return cmp.Or(
				cmp.Compare(phaseRank(a.Row.Phase), phaseRank(b.Row.Phase)),
				cmp.Compare(intervalDays(a.Row.Interval), intervalDays(b.Row.Interval)),
				strings.Compare(a.Row.Phase, b.Row.Phase), // after before followup
			)
		})
		s.Before, s.After = pair(s.Photos)
		if i > 0 {
			s.Prev = subjects[i-1]
			subjects[i-1].Next = s
		}
	}
	return subjects
}

// pair picks the two photos of an index card among those with an image:
// the first before and the last after; failing that, the first and the
// last photo.
func pair(photos []photoView) (*photoView, *photoView) {
	var first, last, before, after *photoView
	for i := range photos {
		p := &photos[i]
		if p.Thumb == "" {
			continue
		}
		if first == nil {
			first = p
		}
		last = p
		if before == nil && phaseRank(p.Row.Phase) == 0 {
			before = p
		}
		if phaseRank(p.Row.Phase) == 2 {
			after = p
		}
	}
	if before != nil && after != nil {
		return before, after
	}
	if first == last {
		return first, nil
	}
	return first, last
}
