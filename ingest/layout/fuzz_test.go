package layout

import (
	"slices"
	"strings"
	"testing"

	"github.com/veil-photo/veil/manifest"
)

// checkTerm fails t unless term is something index.csv may hold.
func checkTerm(t *testing.T, what string, term Term) {
	t.Helper()
	if !slices.Contains(manifest.Phases, term.Phase) {
		t.Fatalf("%s: phase %q", what, term.Phase)
	}
	if term.Interval != "" && !isoInterval.MatchString(term.Interval) {
		t.Fatalf("%s: interval %q", what, term.Interval)
	}
}

func FuzzParseLayout(f *testing.F) {
	for _, s := range [][2]string{
		{DefaultLayout, "Jane Doe/before/IMG_0001.jpg"},
		{IDLayout, "Jane (Janie) Doe (MRN-7A)/6 months/a.jpg"},
		{"{id}_{patient}/{phase}/*", "483920_Jane_Doe/post op 6 mo/a.jpg"},
		{"{patient}_{phase}_*", "Mary_Ann_3_months_after_1.jpg"},
		{"**/{patient}/*/{phase}/*", "2026/x/Lê Văn Hà/rhino/2wk/a.jpg"},
		{"{id}/{phase}/*", "４８３９２０/1.5 years/a.jpg"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tmpl, path string) {
		l, err := ParseLayout(tmpl, nil)
		if err != nil {
			return
		}
		p, err := l.Match(path)
		if err != nil {
			return
		}
		checkTerm(t, path, Term{p.Phase, p.Interval})
		if again, err := (*Vocabulary)(nil).Parse(p.PhaseText); err != nil || again != (Term{p.Phase, p.Interval}) {
			t.Fatalf("Match(%q) read phase %q as %s %s, Parse reads %v, %v", path, p.PhaseText, p.Phase, p.Interval, again, err)
		}
		switch {
		case strings.Contains(tmpl, "{id}"):
			id, err := NormalizeID(p.ID)
			if err != nil || p.Key != "id:"+id || p.LooseKey != "" {
				t.Fatalf("Match(%q) = %+v with an ID layout", path, p)
			}
		case p.Key != "name:"+NormalizeName(p.Patient) || p.Key == "name:" || p.LooseKey != LooseKey(p.Patient):
			t.Fatalf("Match(%q) = %+v", path, p)
		}
	})
}

func FuzzParsePhase(f *testing.F) {
	for _, s := range []string{"before", "pre-op", "2 weeks post", "post op 6 mo", "6mo", "1 year", "3 months after",
		"1.5 years", "1,25 yrs", "intraop 2 weeks", "999 days", "0.001 years"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if term, err := (*Vocabulary)(nil).Parse(s); err == nil {
			checkTerm(t, s, term)
		}
		if a, err := ParsePhaseAlias(s); err == nil {
			checkTerm(t, s, a.Term)
		}
	})
}

func FuzzNameKeys(f *testing.F) {
	for _, s := range []string{"Jane  DOE", "ＪＡＮＥ　ＤＯＥ", "Strauß", "STRAUẞ", "Lê Văn Hạ", "Lee, Ann", "O'Brien", "İpek", "ﬁona"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := NormalizeName(s)
		if NormalizeName(k) != k {
			t.Fatalf("NormalizeName is not idempotent: %q → %q → %q", s, k, NormalizeName(k))
		}
		if LooseKey(k) != LooseKey(s) {
			t.Fatalf("LooseKey(%q) = %q but LooseKey of its strict key %q is %q", s, LooseKey(s), k, LooseKey(k))
		}
		if id, err := NormalizeID(s); err == nil {
			if again, err := NormalizeID(id); err != nil || again != id {
				t.Fatalf("NormalizeID is not idempotent: %q → %q → %q, %v", s, id, again, err)
			}
		}
	})
}
