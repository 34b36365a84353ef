package layout

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/veil-photo/veil/manifest"
	"golang.org/x/text/unicode/norm"
)

func TestPhasesAreManifests(t *testing.T) {
	if !slices.Equal([]string{Before, After, Intraop, Followup}, manifest.Phases) {
		t.Errorf("layout's phases differ from manifest.Phases %v", manifest.Phases)
	}
}

func TestParsePhase(t *testing.T) {
	tests := []struct{ in, phase, interval string }{
		// the words veil always knew
		{"before", Before, ""}, {"pre", Before, ""}, {"preop", Before, ""}, {"pre-op", Before, ""}, {"pre_op", Before, ""},
		{"Pre-Op", Before, ""}, {"after", After, ""}, {"post", After, ""}, {"postop", After, ""}, {"post-op", After, ""},
		{"post_op", After, ""}, {"POSTOP", After, ""}, {"intraop", Intraop, ""}, {"intra-op", Intraop, ""},
		{"intra_op", Intraop, ""}, {"intra", Intraop, ""}, {"followup", Followup, ""}, {"follow-up", Followup, ""},
		{"follow_up", Followup, ""}, {"fu", Followup, ""}, {" before ", Before, ""},
		// what staff write (issue 14)
		{"pre op", Before, ""}, {"intra op", Intraop, ""}, {"post op", After, ""},
		{"2 weeks post", Followup, "P2W"}, {"post op 6 mo", Followup, "P6M"}, {"6mo", Followup, "P6M"},
		{"6 months", Followup, "P6M"}, {"1 year", Followup, "P1Y"}, {"3 months after", Followup, "P3M"},
		{"10 days", Followup, "P10D"}, {"1yr", Followup, "P1Y"}, {"2wk", Followup, "P2W"}, {"3 wks", Followup, "P3W"},
		{"6 mos", Followup, "P6M"}, {"1.5 years", Followup, "P18M"}, {"1,5 years", Followup, "P18M"},
		{"0.5 year", Followup, "P6M"},
		{"6-weeks-post-op", Followup, "P6W"}, {"followup 1 year", Followup, "P1Y"}, {"2 weeks pre-op", Before, "P2W"},
		{"after 6 months", Followup, "P6M"}, {"12 months", Followup, "P12M"}, {"6m", Followup, "P6M"},
		{"post6mo", Followup, "P6M"}, {"999 days", Followup, "P999D"},
	}
	for _, tt := range tests {
		got, err := (*Vocabulary)(nil).Parse(tt.in)
		if err != nil || got.Phase != tt.phase || got.Interval != tt.interval {
			t.Errorf("Parse(%q) = %v, %v; want %s %s", tt.in, got, err, tt.phase, tt.interval)
		}
		if got.Interval != "" && !isoInterval.MatchString(got.Interval) {
			t.Errorf("Parse(%q): interval %q is not one ISO 8601 count and unit", tt.in, got.Interval)
		}
	}
}

func TestParsePhaseRefuses(t *testing.T) {
	for _, in := range []string{"", "during", "weird", "later", "6", "weeks", "6 fortnights", "0 days", "1000 days",
		"1.5 months", "1.5 weeks", "2.5 weeks", "2.5 days", "1.25 weeks", "6 mo 2 wk", "post 6 mo after", "intraop 2 weeks",
		"fu 6 mo 1 year", "6mo.", "pre/op", "1.2.3 years", "0.01 years", "１ year"} {
		got, err := (*Vocabulary)(nil).Parse(in)
		if !errors.Is(err, ErrPhase) {
			t.Errorf("Parse(%q) = %v, %v; want ErrPhase", in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), "use before, after, intraop or followup") {
			t.Errorf("Parse(%q): error %q does not list the accepted forms", in, err)
		}
	}
	_, err := (*Vocabulary)(nil).Parse("weird")
	if got, want := err.Error(), `unknown phase "weird": use before, after, intraop or followup `; !strings.HasPrefix(got, want) {
		t.Errorf("error %q, want it to begin %q", got, want)
	}
	_, err = (*Vocabulary)(nil).Parse("1.5 months")
	if !strings.Contains(err.Error(), "18 months") {
		t.Errorf("a refused fraction does not say how to write it: %v", err)
	}
}

func TestParsePhaseAlias(t *testing.T) {
	good := map[string]Alias{
		"vorher=before":          {"vorher", Term{Before, ""}},
		"nachher=post-op":        {"nachher", Term{After, ""}},
		"recheck=followup:P6W":   {"recheck", Term{Followup, "P6W"}},
		"pod10=after:10 days":    {"pod10", Term{Followup, "P10D"}},
		"late = fu : p1y":        {"late", Term{Followup, "P1Y"}},
		"prep=before:2wk":        {"prep", Term{Before, "P2W"}},
		"après=followup:1.5 yrs": {"après", Term{Followup, "P18M"}},
	}
	for in, want := range good {
		got, err := ParsePhaseAlias(in)
		if err != nil || got != want {
			t.Errorf("ParsePhaseAlias(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "recheck", "=before", "recheck=", "recheck=soon", "recheck=followup:P6X",
		"recheck=followup:P0D", "recheck=followup:6", "recheck=intraop:P1D", "recheck=2 weeks post", "a/b=before", "-=before"} {
		if got, err := ParsePhaseAlias(in); err == nil {
			t.Errorf("ParsePhaseAlias(%q) = %+v, accepted", in, got)
		}
	}
	// Decomposed text (as macOS writes it) is the same alias word.
	a, _ := ParsePhaseAlias("après=followup")
	v, err := NewVocabulary(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Parse(norm.NFD.String("APRÈS 2 wk")); err != nil || got != (Term{Followup, "P2W"}) {
		t.Errorf("decomposed alias = %v, %v", got, err)
	}
	// An alias may not give a built-in word, or another alias, another meaning.
	for _, set := range [][]string{{"pre=after"}, {"post op=followup:P1D"}, {"x=before", "x=after"}, {"6mo=followup:P26W"}} {
		var as []Alias
		for _, s := range set {
			a, err := ParsePhaseAlias(s)
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, a)
		}
		if _, err := NewVocabulary(as...); err == nil {
			t.Errorf("NewVocabulary(%v) accepted a conflicting alias", set)
		}
	}
	for _, a := range []Alias{{"x", Term{"later", ""}}, {"x", Term{After, "P1D"}}, {"x", Term{Followup, "P1.5Y"}}, {"x", Term{Intraop, "P1D"}}} {
		if _, err := NewVocabulary(a); err == nil {
			t.Errorf("NewVocabulary(%+v) accepted", a)
		}
	}
	// The same meaning twice is harmless (a flag repeated in a config file).
	a, _ = ParsePhaseAlias("x=before")
	if _, err := NewVocabulary(a, a); err != nil {
		t.Error(err)
	}
}
