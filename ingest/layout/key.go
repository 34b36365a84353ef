package layout

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// The two spaces of subject keys. A key is one of them plus the folded text,
// so that no name can ever equal an ID ("name:123" is not "id:123").
const (
	idPrefix   = "id:"
	namePrefix = "name:"
)

// ErrID is returned for a patient ID that is empty or holds characters an ID
// may not contain.
var ErrID = errors.New("invalid patient ID")

// foldCase is full Unicode case folding, except that ß stays ß: full folding
// maps it to "ss", which would make Strauß and Strauss one patient. The
// capital ẞ is made ß first for the same reason.
func foldCase(s string) string {
	s = strings.ReplaceAll(s, "ẞ", "ß")
	parts := strings.Split(s, "ß")
	for i, p := range parts {
		parts[i] = cases.Fold().String(p)
	}
	return strings.Join(parts, "ß")
}

// fold makes the forms of one text that no reader could tell apart one form:
// canonical composition (NFC), width (full-width Latin and the ideographic
// space are the ASCII ones) and case. It never removes a letter or a mark.
func fold(s string) string {
	s = width.Fold.String(norm.NFC.String(s))
	return norm.NFC.String(foldCase(s))
}

// NormalizeName returns the strict key text of a patient name: case, width
// and Unicode composition folded, whitespace and underscores made single
// spaces, control characters dropped. Accents and letters are kept, so
// "José Garcia" and "Jose Garcia", "Strauß" and "Strauss" are different
// patients, while "Jane  DOE", "jane_doe" and "ＪＡＮＥ　ＤＯＥ" are one.
func NormalizeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '_' || unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, fold(s))
	return strings.Join(strings.Fields(s), " ")
}

// idRule is what an ID may hold, in the words of error messages and --help.
const idRule = "an ID is letters or digits, possibly joined by - or ."

// isIDRune reports whether r may appear in an ID (see idRule).
func isIDRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '-' || r == '.'
}

// NormalizeID returns the key text of a patient ID (medical record or chart
// number): trimmed, case, width and composition folded. An ID is one or more
// letters or digits, possibly joined by '-' or '.' (as in "A-1234" or
// "12.345"). Spaces, '_' and anything else are refused rather than folded:
// "123 456" may be a typo for either of two patients, and '_' is what joins
// an ID to a name ({id}_{patient}).
func NormalizeID(s string) (string, error) {
	id := fold(strings.TrimSpace(s))
	if id == "" {
		return "", fmt.Errorf("%w: empty (%s)", ErrID, idRule)
	}
	for _, r := range id {
		if !isIDRune(r) {
			return "", fmt.Errorf("%w %q: %q is not allowed (%s)", ErrID, s, r, idRule)
		}
	}
	if !strings.ContainsFunc(id, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "", fmt.Errorf("%w %q: no letter or digit (%s)", ErrID, s, idRule)
	}
	return id, nil
}

// baseLetters are letters that names written without a national keyboard
// replace by another and that no decomposition removes. ß is not here: it
// is a difference of its own (see looseSteps).
var baseLetters = strings.NewReplacer("đ", "d", "ð", "d", "ø", "o", "ł", "l", "ı", "i",
	"æ", "ae", "œ", "oe", "þ", "th")

// looseSteps are the folds of LooseKey, in order, with the difference each
// one forgives in words staff know (Resemblance names them).
var looseSteps = []struct {
	what string
	fn   func(string) string
}{
	{"accents", stripMarks},
	{"ß written as ss", func(s string) string { return strings.ReplaceAll(s, "ß", "ss") }},
	{"hyphens, apostrophes or punctuation", dropPunct},
	{"the order of the names", sortTokens},
}

func stripMarks(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return baseLetters.Replace(out)
}

// dropPunct removes apostrophes (O'Brien = OBrien) and makes every other
// character that is not a letter or digit a space (Ann-Lee = Ann Lee,
// "Lee, Ann" = "Lee Ann").
func dropPunct(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\'' || r == '’' || r == 'ʼ' || r == '`':
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			return r
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// sortTokens puts the words of a name in one order. Which word is the
// surname cannot be known ("GARCIA MARIA" is how many systems print Maria
// Garcia, without the comma), so the loose key does not guess it.
func sortTokens(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(f, " ")
}

func loose(s string, skip int) string {
	s = NormalizeName(s)
	for i, st := range looseSteps {
		if i != skip {
			s = st.fn(s)
		}
	}
	return s
}

// LooseKey returns the text under which names that MIGHT be one person
// collide: the strict key with accents removed, ß as ss, hyphens and
// punctuation dropped and the words sorted. Two names with one loose key and
// two strict keys are neither merged nor split silently: ingest holds the
// file until staff decide (see Resemblance).
func LooseKey(name string) string { return loose(name, -1) }

// resolveID is how staff keep two different patients with look-alike
// names apart.
const resolveID = "if this is another patient, the names alone cannot keep the two apart: " +
	"put each patient's ID in the folder names and run veil with --layout '" + IDLayout + "' (layout {id}; " +
	"patients ingested before under their name alone then get a new subject code under their ID)"

// Resemblance describes, for a quarantine reason written to staff, how name
// differs from existing, the spelling of a patient already in the vault
// whose loose key it shares, and how to resolve it. existing is "" when
// that spelling is not known: the vault keeps no names.
func Resemblance(name, existing string) string {
	if existing == "" {
		return fmt.Sprintf("the patient %q resembles the name of a patient already in the vault: the same letters, "+
			"but for accents, ß written as ss, hyphens, apostrophes or punctuation, or the order of the names. "+
			"The vault keeps no names, so veil cannot show how that patient was spelled. "+
			"If this is the same patient, rename the folder to the spelling used for their earlier photos; %s",
			name, resolveID)
	}
	var diffs []string
	for i, st := range looseSteps {
		if loose(name, i) != loose(existing, i) {
			diffs = append(diffs, st.what)
		}
	}
	how := "spelling"
	switch len(diffs) {
	case 0:
	case 1:
		how = diffs[0]
	default:
		how = strings.Join(diffs[:len(diffs)-1], ", ") + " and " + diffs[len(diffs)-1]
	}
	return fmt.Sprintf("the patient %q resembles the existing patient %q (they differ in %s): "+
		"if this is the same patient, rename the folder to %q; %s",
		name, existing, how, existing, resolveID)
}
