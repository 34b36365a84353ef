package layout

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The closed vocabulary of phases (manifest.Phases).
const (
	Before   = "before"
	After    = "after"
	Intraop  = "intraop"
	Followup = "followup"
)

// ErrPhase is returned for a phase the vocabulary does not know.
var ErrPhase = errors.New("unknown phase")

// Term is what a phase as written means: a phase and, for a time point, an
// ISO 8601 duration counted from the operation (P2W, P6M, P1Y, P10D), or "".
type Term struct {
	Phase    string
	Interval string
}

// builtinWords are the words staff write for a phase, as token sequences
// (see tokens): "pre-op", "pre_op" and "pre op" are all "pre op".
var builtinWords = map[string]string{
	"before": Before, "pre": Before, "preop": Before, "pre op": Before, "preoperative": Before, "pre operative": Before,
	"after": After, "post": After, "postop": After, "post op": After, "postoperative": After, "post operative": After,
	"intraop": Intraop, "intra op": Intraop, "intra": Intraop, "intraoperative": Intraop, "intra operative": Intraop,
	"followup": Followup, "follow up": Followup, "fu": Followup,
}

// units are the spellings of the units of a time point, by ISO 8601 letter.
// A bare "m" is months: minutes are no time point of a photo series.
var units = map[string]byte{
	"d": 'D', "day": 'D', "days": 'D',
	"w": 'W', "wk": 'W', "wks": 'W', "week": 'W', "weeks": 'W',
	"m": 'M', "mo": 'M', "mos": 'M', "mth": 'M', "mths": 'M', "month": 'M', "months": 'M',
	"y": 'Y', "yr": 'Y', "yrs": 'Y', "year": 'Y', "years": 'Y',
}

// maxCount bounds the number of a time point: 999 of any unit is far past
// any follow-up, and the bound keeps every interval a few bytes.
const maxCount = 999

// Vocabulary is the phase words veil accepts: the built-in ones plus a
// practice's aliases. The zero value is not usable; a nil *Vocabulary means
// the built-in words alone.
type Vocabulary struct {
	words   map[string]Term // token sequence → meaning
	aliases []Alias
}

// Alias is a practice's own phase word (see ParsePhaseAlias).
type Alias struct {
	Word string // as given, e.g. "recheck"
	Term Term
}

// builtin is the vocabulary of a nil *Vocabulary.
var builtin = mustVocabulary()

func mustVocabulary() *Vocabulary {
	v, err := NewVocabulary()
	if err != nil {
		panic(err)
	}
	return v
}

// NewVocabulary returns the built-in words plus aliases. An alias may not
// redefine a built-in word or another alias with another meaning.
func NewVocabulary(aliases ...Alias) (*Vocabulary, error) {
	v := &Vocabulary{words: map[string]Term{}}
	for w, p := range builtinWords {
		v.words[w] = Term{Phase: p}
	}
	for _, a := range aliases {
		toks, err := tokens(a.Word)
		if err != nil || len(toks) == 0 {
			return nil, fmt.Errorf("phase alias %q: the word must be letters or digits, possibly joined by space, - or _", a.Word)
		}
		k := strings.Join(toks, " ")
		// An Alias not made by ParsePhaseAlias must still be what index.csv
		// may hold: a phase, and a time point only where withInterval puts one.
		if t := a.Term; !slices.Contains([]string{Before, After, Intraop, Followup}, t.Phase) ||
			t.Interval != "" && (!isoInterval.MatchString(t.Interval) || t.Phase == Intraop || t.Phase == After) {
			return nil, fmt.Errorf("phase alias %q: %q is not a phase with an interval veil writes", a.Word, t)
		}
		// A word or a time point veil (or an earlier alias) already reads
		// keeps its meaning: "6mo=followup:P26W" would make 6mo two things.
		if old, err := v.parse(a.Word); err == nil && old != a.Term {
			return nil, fmt.Errorf("phase alias %q: %q already means %s", a.Word, k, old)
		}
		v.words[k] = a.Term
		v.aliases = append(v.aliases, a)
	}
	return v, nil
}

// String renders a term as staff would read it: "followup P6M".
func (t Term) String() string {
	if t.Interval == "" {
		return t.Phase
	}
	return t.Phase + " " + t.Interval
}

func (v *Vocabulary) orBuiltin() *Vocabulary {
	if v == nil {
		return builtin
	}
	return v
}

// ParsePhaseAlias reads a --phase-alias value, WORD=PHASE[:INTERVAL]: PHASE
// is a phase or a built-in synonym, INTERVAL an ISO 8601 duration (P6W) or a
// time point as staff write it (6 weeks). Examples: "vorher=before",
// "recheck=followup:P6W", "pod10=followup:10 days".
func ParsePhaseAlias(s string) (Alias, error) {
	word, target, ok := strings.Cut(s, "=")
	word = strings.TrimSpace(word)
	if toks, err := tokens(word); !ok || err != nil || len(toks) == 0 {
		return Alias{}, fmt.Errorf("phase alias %q: write WORD=PHASE or WORD=PHASE:INTERVAL, as in recheck=followup:P6W", s)
	}
	ph, iv, _ := strings.Cut(target, ":")
	t, ok := builtin.words[strings.Join(mustTokens(ph), " ")]
	if !ok || t.Interval != "" {
		return Alias{}, fmt.Errorf("phase alias %q: %q is not a phase (use before, after, intraop, followup or a synonym)", s, ph)
	}
	if strings.TrimSpace(iv) != "" {
		d, err := parseInterval(iv)
		if err != nil {
			return Alias{}, fmt.Errorf("phase alias %q: %w", s, err)
		}
		if t, err = withInterval(t, d); err != nil {
			return Alias{}, fmt.Errorf("phase alias %q: %w", s, err)
		}
	}
	return Alias{Word: word, Term: t}, nil
}

func mustTokens(s string) []string {
	t, _ := tokens(s)
	return t
}

// isoInterval is the only ISO 8601 duration a time point is written as: one
// whole, positive count of one unit.
var isoInterval = regexp.MustCompile(`^P[1-9][0-9]{0,2}[DWMY]$`)

// parseInterval reads an alias's interval: ISO 8601 or staff's words.
func parseInterval(s string) (string, error) {
	s = strings.TrimSpace(s)
	if isoInterval.MatchString(strings.ToUpper(s)) {
		return strings.ToUpper(s), nil
	}
	toks, err := tokens(s)
	if err != nil || len(toks) != 2 {
		return "", fmt.Errorf("interval %q: write an ISO 8601 duration such as P6W or P1Y, or a time such as 6 weeks", s)
	}
	return timePoint(toks[0], toks[1])
}

// timePoint makes a count and a unit an ISO 8601 duration. A fraction is
// accepted only where it is a whole number of a fixed smaller unit: 1.5
// years is P18M and 1.5 weeks is P10D with a rounding, so it is refused, as
// are fractions of months and days (a month has no fixed number of days).
func timePoint(num, unit string) (string, error) {
	u, ok := units[unit]
	if !ok {
		return "", fmt.Errorf("%q is not a unit (use days, weeks, months or years)", unit)
	}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(num, ",", "."), ".")
	if len(whole) > 3 || len(frac) > 3 {
		return "", fmt.Errorf("%s %s: the number is out of range (1 to %d)", num, unit, maxCount)
	}
	n, err := strconv.Atoi(whole + frac)
	if err != nil {
		return "", fmt.Errorf("%s %s: %q is not a number", num, unit, num)
	}
	if frac != "" {
		scale := 1
		for range frac {
			scale *= 10
		}
		sub, per := byte(0), 0
		switch u {
		case 'Y':
			sub, per = 'M', 12
		case 'W':
			sub, per = 'D', 7
		}
		if per == 0 || n*per%scale != 0 {
			return "", fmt.Errorf("%s %s: write a whole number (1.5 years may be written 18 months)", num, unit)
		}
		n, u = n*per/scale, sub
	}
	if n < 1 || n > maxCount {
		return "", fmt.Errorf("%s %s: the number is out of range (1 to %d)", num, unit, maxCount)
	}
	return "P" + strconv.Itoa(n) + string(u), nil
}

// withInterval gives a phase word a time point. After an operation the
// time point makes it a follow-up ("2 weeks post" is followup P2W); before
// it, it stays before ("2 weeks pre-op" is before P2W). During the operation
// there is no time point.
func withInterval(t Term, interval string) (Term, error) {
	switch {
	case t.Interval != "":
		return Term{}, fmt.Errorf("%s already has the time point %s", t.Phase, t.Interval)
	case t.Phase == Intraop:
		return Term{}, errors.New("intraop has no time point")
	case t.Phase == After:
		t.Phase = Followup
	}
	t.Interval = interval
	return t, nil
}

// tokens splits a phase as written into words and numbers: letters, and
// digits with at most one decimal point or comma, separated by spaces, '-'
// or '_' or by the change from digits to letters ("6mo" is "6 mo"). Letters
// are lower-cased; any other character is an error.
func tokens(s string) ([]string, error) {
	var out []string
	// NFC: macOS and some SMB clients write names decomposed.
	rs := []rune(strings.ToLower(norm.NFC.String(strings.TrimSpace(s))))
	for i := 0; i < len(rs); {
		r := rs[i]
		j := i + 1
		switch {
		case r == ' ' || r == '-' || r == '_':
			i = j
			continue
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j])) {
				j++
			}
		case r >= '0' && r <= '9':
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			if j+1 < len(rs) && (rs[j] == '.' || rs[j] == ',') && rs[j+1] >= '0' && rs[j+1] <= '9' {
				for j++; j < len(rs) && rs[j] >= '0' && rs[j] <= '9'; j++ {
				}
			}
		default:
			return nil, fmt.Errorf("%q is not part of a phase", r)
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out, nil
}

func isNumber(t string) bool { return t[0] >= '0' && t[0] <= '9' }

// Parse maps a phase as staff write it to its term: a phase word ("pre-op",
// "followup", an alias), a time point ("6mo", "1 year": a follow-up), or
// both in either order ("2 weeks post", "post op 6 mo", "3 months after").
// The error wraps ErrPhase and lists the accepted forms.
func (v *Vocabulary) Parse(s string) (Term, error) {
	v = v.orBuiltin()
	t, err := v.parse(s)
	if errors.Is(err, errUnknown) {
		return Term{}, fmt.Errorf("%w %q: %s", ErrPhase, s, v.Forms(nil))
	} else if err != nil {
		return Term{}, fmt.Errorf("%w %q: %s", ErrPhase, s, v.Forms(err))
	}
	return t, nil
}

// errUnknown is parse's answer for text that is no form at all, as opposed
// to a form with a wrong part (a unit, a number).
var errUnknown = errors.New("not a phase")

func (v *Vocabulary) parse(s string) (Term, error) {
	toks, err := tokens(s)
	if err != nil {
		return Term{}, err
	}
	if t, ok := v.words[strings.Join(toks, " ")]; ok {
		return t, nil
	}
	i := slices.IndexFunc(toks, isNumber)
	if i < 0 || i+1 == len(toks) || isNumber(toks[i+1]) {
		return Term{}, errUnknown
	}
	interval, err := timePoint(toks[i], toks[i+1])
	if err != nil {
		return Term{}, err
	}
	before, after := toks[:i], toks[i+2:]
	word := before
	switch {
	case len(before) == 0 && len(after) == 0:
		return Term{Phase: Followup, Interval: interval}, nil
	case len(before) == 0:
		word = after
	case len(after) != 0:
		return Term{}, errUnknown
	}
	t, ok := v.words[strings.Join(word, " ")]
	if !ok {
		return Term{}, errUnknown
	}
	return withInterval(t, interval)
}

// Forms says what the vocabulary accepts, after why s was refused (cause
// may be nil). Its first words are the ones veil has always printed.
func (v *Vocabulary) Forms(cause error) string {
	v = v.orBuiltin()
	var b strings.Builder
	b.WriteString("use before, after, intraop or followup (or pre, pre-op, post, post-op, intra-op, follow-up, fu), " +
		"optionally with a time point (2 weeks post, post op 6 mo, 6mo, 1 year, 10 days, 1.5 years = 18 months)")
	if len(v.aliases) > 0 {
		b.WriteString(", or this practice's words:")
		for i, a := range v.aliases {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s (%s)", a.Word, a.Term)
		}
	}
	if cause != nil {
		return cause.Error() + ": " + b.String()
	}
	return b.String()
}
