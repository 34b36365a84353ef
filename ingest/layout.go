package ingest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// DefaultLayout is the layout of SPEC: one folder per patient, one per phase.
const DefaultLayout = "{patient}/{phase}/*"

// LayoutHelp documents the template syntax; the CLI prints it in --help.
const LayoutHelp = `A layout is a template matched against each file's path relative to the
inbox, folder levels separated by '/':
  {patient}  the patient's name: one or more characters within one level
  {phase}    the phase: before, after, intraop or followup, or a synonym
             (pre, preop, pre-op; post, postop, post-op; intra, intra-op;
             follow-up, follow_up, fu), in any case
  *          any text (possibly none) within one level
  **/        any number of folder levels (only as a whole level)
  anything else is literal text, matched without regard to case.
Both {patient} and {phase} must appear exactly once. When a name could be
split several ways, the split whose {phase} is a known phase wins, so
"Mary_Ann_pre_1.jpg" under {patient}_{phase}_* is Mary Ann, before.
Examples:
  {patient}/{phase}/*          Jane Doe/before/IMG_0001.jpg
  {patient}_{phase}_*          Jane Doe_pre_0001.jpg
  {patient}/{phase}-*          jane doe/post-op-2.png
  **/{patient}/{phase}/*       2026/clinic-2/Jane Doe/after/a.webp
  {patient}/*/{phase}/*        Jane Doe/rhinoplasty/before/a.jpg`

// phaseWords maps every accepted spelling (lower case) to its phase.
var phaseWords = map[string]string{
	"before": "before", "pre": "before", "preop": "before", "pre-op": "before", "pre_op": "before",
	"after": "after", "post": "after", "postop": "after", "post-op": "after", "post_op": "after",
	"intraop": "intraop", "intra-op": "intraop", "intra_op": "intraop", "intra": "intraop",
	"followup": "followup", "follow-up": "followup", "follow_up": "followup", "fu": "followup",
}

// Phase maps a phase as written in a path to the closed vocabulary, or "".
func Phase(s string) string { return phaseWords[strings.ToLower(strings.TrimSpace(s))] }

// Layout says how patient and phase are read from an inbox path.
type Layout struct {
	src    string
	strict *regexp.Regexp // {phase} only matches known phase words
	loose  *regexp.Regexp // {phase} matches anything, to tell an unknown phase from a mismatch
}

// String returns the template.
func (l *Layout) String() string { return l.src }

// ParseLayout compiles a layout template (see LayoutHelp).
func ParseLayout(s string) (*Layout, error) {
	if s == "" {
		return nil, errors.New("layout is empty")
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return nil, fmt.Errorf("layout %q: levels are separated by single '/' and it is relative to the inbox", s)
	}
	var phaseAlt []string
	for w := range phaseWords {
		phaseAlt = append(phaseAlt, regexp.QuoteMeta(w))
	}
	// Longest first, so that "pre-op" is not read as "pre" followed by "-op".
	sortByLenDesc(phaseAlt)
	build := func(phase string) (string, error) {
		var b strings.Builder
		b.WriteString("(?i)^")
		seen := map[string]int{}
		levels := strings.Split(s, "/")
		for i, lv := range levels {
			if lv == ".." || lv == "." {
				return "", fmt.Errorf("layout %q: %q is not allowed", s, lv)
			}
			if lv == "**" {
				if i == len(levels)-1 {
					return "", fmt.Errorf("layout %q: ** must be followed by more levels", s)
				}
				b.WriteString("(?:[^/]+/)*")
				continue
			}
			for rest := lv; rest != ""; {
				switch {
				case strings.HasPrefix(rest, "{patient}"):
					seen["patient"]++
					b.WriteString("(?P<patient>[^/]+?)")
					rest = rest[len("{patient}"):]
				case strings.HasPrefix(rest, "{phase}"):
					seen["phase"]++
					b.WriteString("(?P<phase>" + phase + ")")
					rest = rest[len("{phase}"):]
				case strings.HasPrefix(rest, "{"):
					end := strings.IndexByte(rest, '}')
					if end < 0 {
						end = len(rest) - 1
					}
					return "", fmt.Errorf("layout %q: unknown placeholder %s (use {patient}, {phase}, * or **/)", s, rest[:end+1])
				case strings.HasPrefix(rest, "**"):
					return "", fmt.Errorf("layout %q: ** must be a whole level, as in **/{patient}/{phase}/*", s)
				case rest[0] == '*':
					b.WriteString("[^/]*?")
					rest = rest[1:]
				default:
					n := strings.IndexAny(rest, "{*")
					if n < 0 {
						n = len(rest)
					}
					b.WriteString(regexp.QuoteMeta(rest[:n]))
					rest = rest[n:]
				}
			}
			if i < len(levels)-1 {
				b.WriteString("/")
			}
		}
		b.WriteString("$")
		if seen["patient"] != 1 || seen["phase"] != 1 {
			return "", fmt.Errorf("layout %q: {patient} and {phase} must each appear exactly once", s)
		}
		return b.String(), nil
	}
	strict, err := build(strings.Join(phaseAlt, "|"))
	if err != nil {
		return nil, err
	}
	loose, _ := build("[^/]+?")
	l := &Layout{src: s}
	if l.strict, err = regexp.Compile(strict); err != nil {
		return nil, fmt.Errorf("layout %q: %v", s, err)
	}
	l.loose = regexp.MustCompile(loose)
	return l, nil
}

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j]) > len(s[j-1]) || len(s[j]) == len(s[j-1]) && s[j] < s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Match errors, each a quarantine reason.
var (
	ErrLayout = errors.New("path does not match the layout")
	ErrPhase  = errors.New("unknown phase")
)

// Placement is what a layout reads from a path.
type Placement struct {
	Patient    string // as written in the path
	PatientKey string // normalized: the key of the subject index
	PhaseText  string // as written in the path
	Phase      string // one of manifest.Phases
}

// Match reads patient and phase from rel, a slash-separated path relative to
// the inbox. The error wraps ErrLayout or ErrPhase.
func (l *Layout) Match(rel string) (Placement, error) {
	if m := l.strict.FindStringSubmatch(rel); m != nil {
		p := Placement{
			Patient:   m[l.strict.SubexpIndex("patient")],
			PhaseText: m[l.strict.SubexpIndex("phase")],
		}
		p.Phase = Phase(p.PhaseText)
		p.PatientKey = NormalizePatient(p.Patient)
		if p.PatientKey == "" {
			return p, fmt.Errorf("%w %s: the patient name %q is empty once normalized", ErrLayout, l.src, p.Patient)
		}
		return p, nil
	}
	if m := l.loose.FindStringSubmatch(rel); m != nil {
		ph := m[l.loose.SubexpIndex("phase")]
		return Placement{Patient: m[l.loose.SubexpIndex("patient")], PhaseText: ph},
			fmt.Errorf("%w %q: use before, after, intraop or followup (or pre, post, preop, postop, follow-up)", ErrPhase, ph)
	}
	return Placement{}, fmt.Errorf("%w %s", ErrLayout, l.src)
}

// NormalizePatient returns the subject-index key of a patient name: accents
// removed, case folded, runs of spaces and underscores made one space, so
// that "Jane  DOE", "jane doe", "Jane_Doe" and "Jáne Doe" are one patient.
func NormalizePatient(s string) string {
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = strings.ToLower(s)
	}
	out = strings.Map(func(r rune) rune {
		if r == '_' || unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, out)
	return strings.Join(strings.Fields(out), " ")
}
