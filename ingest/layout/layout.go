// Package layout reads who and when a photo is from its path in the inbox:
// the layout template, the patient's name or ID and the subject keys made
// from them, and the phase vocabulary with its time points.
package layout

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultLayout is the layout of SPEC: one folder per patient, one per phase.
const DefaultLayout = "{patient}/{phase}/*"

// IDLayout is the layout recommended for new installs: the patient's ID in
// the folder name keeps two patients with the same name apart.
const IDLayout = "{patient} ({id})/{phase}/*"

// ErrLayout is returned for a path the layout does not describe.
var ErrLayout = errors.New("path does not match the layout")

// Layout says how patient and phase are read from an inbox path.
type Layout struct {
	src    string
	vocab  *Vocabulary
	strict *regexp.Regexp // {phase} only matches the vocabulary's forms
	loose  *regexp.Regexp // {phase} matches anything, to tell an unknown phase from a mismatch
}

// String returns the template.
func (l *Layout) String() string { return l.src }

// sep is what may stand between the tokens of a phase (see tokens).
const sep = `[ _-]*`

// phasePattern is a regular expression for the forms Vocabulary.Parse
// accepts, so that when a path could be split several ways the split whose
// {phase} is a phase wins ("Mary_Ann_pre_1.jpg" is Mary Ann, before).
func phasePattern(v *Vocabulary) string {
	var words, unitAlt []string
	for w := range v.words {
		var b strings.Builder
		for i, t := range strings.Split(w, " ") {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(regexp.QuoteMeta(t))
		}
		words = append(words, b.String())
	}
	for u := range units {
		unitAlt = append(unitAlt, u)
	}
	// Longest first, so that "pre-op" is not read as "pre" followed by "-op".
	byLenDesc := func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(words, byLenDesc)
	slices.SortFunc(unitAlt, byLenDesc)
	w := "(?:" + strings.Join(words, "|") + ")"
	tp := `[0-9]+(?:[.,][0-9]+)?` + sep + "(?:" + strings.Join(unitAlt, "|") + ")"
	return "(?:" + w + "(?:" + sep + tp + ")?|" + tp + "(?:" + sep + w + ")?)"
}

// idPattern is what NormalizeID accepts, so that the split of
// "Jane (Janie) Doe (A-7)" under "{patient} ({id})" takes the ID from the
// last parentheses. The loose pattern takes anything, so that a wrong ID is
// reported as one.
const idPattern = `\s*[\pL\pN\p{Mn}.-]+?\s*`

// ParseLayout compiles a layout template (see LayoutHelp) with the phase
// words of v (nil: the built-in ones).
func ParseLayout(s string, v *Vocabulary) (*Layout, error) {
	if s == "" {
		return nil, errors.New("layout is empty")
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return nil, fmt.Errorf("layout %q: levels are separated by single '/' and it is relative to the inbox", s)
	}
	v = v.orBuiltin()
	build := func(phase, id string) (string, error) {
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
				case strings.HasPrefix(rest, "{id}"):
					if err := idBoundaries(lv[:len(lv)-len(rest)], rest[len("{id}"):]); err != nil {
						return "", fmt.Errorf("layout %q: %v", s, err)
					}
					seen["id"]++
					b.WriteString("(?P<id>" + id + ")")
					rest = rest[len("{id}"):]
				case strings.HasPrefix(rest, "{phase}"):
					seen["phase"]++
					b.WriteString("(?P<phase>" + phase + ")")
					rest = rest[len("{phase}"):]
				case strings.HasPrefix(rest, "{"):
					end := strings.IndexByte(rest, '}')
					if end < 0 {
						end = len(rest) - 1
					}
					return "", fmt.Errorf("layout %q: unknown placeholder %s (use {patient}, {id}, {phase}, * or **/)", s, rest[:end+1])
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
		if seen["phase"] != 1 || seen["patient"] > 1 || seen["id"] > 1 || seen["patient"]+seen["id"] == 0 {
			return "", fmt.Errorf("layout %q: {patient} and {phase} must each appear exactly once ({id} may stand beside {patient} or in its place, once)", s)
		}
		return b.String(), nil
	}
	strict, err := build(phasePattern(v), idPattern)
	if err != nil {
		return nil, err
	}
	loose, _ := build("[^/]+?", "[^/]+?")
	l := &Layout{src: s, vocab: v}
	if l.strict, err = regexp.Compile(strict); err != nil {
		return nil, fmt.Errorf("layout %q: %v", s, err)
	}
	l.loose = regexp.MustCompile(loose)
	return l, nil
}

// idBoundaries refuses an {id} whose end could be read in two places: next
// to *, another placeholder or a character an ID may hold, "{patient}-{id}"
// would read "Jane-Doe-A-12" as the ID "Doe-A-12". before and after are the
// template's text around {id} within its level.
func idBoundaries(before, after string) error {
	edge := func(s string, r rune) error {
		if s != "" && (r == '}' || r == '{' || r == '*' || isIDRune(r)) {
			return fmt.Errorf("{id} must be set off by '/' or a character an ID cannot hold (a space, _, parentheses), not %q", r)
		}
		return nil
	}
	last, _ := utf8.DecodeLastRuneInString(before)
	first, _ := utf8.DecodeRuneInString(after)
	if err := edge(before, last); err != nil {
		return err
	}
	return edge(after, first)
}

// Placement is what a layout reads from a path.
type Placement struct {
	Patient   string // the name as written in the path; "" if the layout has no {patient}
	ID        string // the patient ID as written in the path; "" if the layout has no {id}
	Key       string // the subject key: "id:" + NormalizeID(ID) if there is an ID, else "name:" + NormalizeName(Patient); set with ErrPhase too
	LooseKey  string // LooseKey(Patient) when Key is a name key, else "": what a resemblance check compares
	PhaseText string // the phase as written in the path
	Phase     string // Before, After, Intraop or Followup
	Interval  string // the time point, an ISO 8601 duration (P6M), or ""
}

// Match reads patient and phase from rel, a slash-separated path relative to
// the inbox. The error wraps ErrLayout, ErrID or ErrPhase.
func (l *Layout) Match(rel string) (Placement, error) {
	if m := l.strict.FindStringSubmatch(rel); m != nil {
		return l.place(l.fields(l.strict, m))
	}
	// The loose pattern tells an unknown phase from a path of another shape.
	// Its split may still hold a phase the strict pattern's forms miss (a
	// stray separator, as in "pre-"): Parse has the last word.
	if m := l.loose.FindStringSubmatch(rel); m != nil {
		return l.place(l.fields(l.loose, m))
	}
	return Placement{}, fmt.Errorf("%w %s", ErrLayout, l.src)
}

// place reads the phase and makes the subject key of a split path. A path
// with an unknown phase still gets its keys when they are valid: whose file
// was set aside is what tells a look-alike name which spelling it
// resembles.
func (l *Layout) place(p Placement) (Placement, error) {
	t, err := l.vocab.Parse(p.PhaseText)
	if err != nil {
		if k, kerr := l.key(p); kerr == nil {
			p = k
		}
		return p, err
	}
	p.Phase, p.Interval = t.Phase, t.Interval
	return l.key(p)
}

// key makes the subject key, and for a name the loose key, of p.
func (l *Layout) key(p Placement) (Placement, error) {
	if l.strict.SubexpIndex("id") >= 0 {
		id, err := NormalizeID(p.ID)
		if err != nil {
			return p, fmt.Errorf("%s: %w", l.src, err)
		}
		p.Key = idPrefix + id
		return p, nil
	}
	name := NormalizeName(p.Patient)
	if name == "" {
		return p, fmt.Errorf("%w %s: the patient name %q is empty once normalized", ErrLayout, l.src, p.Patient)
	}
	p.Key, p.LooseKey = namePrefix+name, LooseKey(p.Patient)
	return p, nil
}

// fields copies the captures of m into a Placement.
func (l *Layout) fields(re *regexp.Regexp, m []string) Placement {
	get := func(name string) string {
		if i := re.SubexpIndex(name); i >= 0 {
			return m[i]
		}
		return ""
	}
	return Placement{Patient: get("patient"), ID: get("id"), PhaseText: get("phase")}
}
