package layout

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestNormalizeNameSame(t *testing.T) {
	nfd := norm.NFD.String("Jáne Doe")
	if nfd == "Jáne Doe" {
		t.Fatal("test input is not decomposed")
	}
	groups := [][]string{
		{"Jane  DOE", "jane doe", " Jane Doe ", "Jane_Doe", "jane_doe", "Jane\tDoe", "Ｊａｎｅ Ｄｏｅ", "ＪＡＮＥ　ＤＯＥ", "JANE__DOE"},
		{"Jáne Doe", nfd, "JÁNE DOE", "jáne_doe"},
		{"Strauß", "STRAUẞ", "strauß"},
		{"Lê Văn Hà", "LÊ VĂN HÀ", norm.NFD.String("Lê Văn Hà")},
		{"Ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ"}, // full folding: final sigma and capital sigma are σ
	}
	for _, g := range groups {
		for _, s := range g[1:] {
			if NormalizeName(s) != NormalizeName(g[0]) {
				t.Errorf("NormalizeName(%q) = %q, NormalizeName(%q) = %q: want one key", s, NormalizeName(s), g[0], NormalizeName(g[0]))
			}
		}
	}
	if got := NormalizeName("Jane  DOE"); got != "jane doe" {
		t.Errorf("NormalizeName(Jane  DOE) = %q", got)
	}
}

// The pairs of issue 14 that were merged: strict keys keep them apart, the
// loose key brings them together (so that ingest can ask staff).
func TestKeysOfResemblingNames(t *testing.T) {
	pairs := [][2]string{
		{"José Garcia", "Jose Garcia"},
		{"Lê Văn Hà", "Lê Văn Hạ"},
		{"Strauß", "Strauss"},
		{"STRAUẞ", "STRAUSS"},
		{"Ann Lee", "Ann-Lee"},
		{"Lee, Ann", "Ann Lee"},
		{"Garcia, Maria", "GARCIA MARIA"},
		{"Maria Garcia", "GARCIA MARIA"},
		{"O'Brien", "OBrien"},
		{"Đặng Thu", "Dang Thu"},
		{"Jáne Doe", "Jane Doe"},
	}
	for _, p := range pairs {
		if NormalizeName(p[0]) == NormalizeName(p[1]) {
			t.Errorf("%q and %q have one strict key %q", p[0], p[1], NormalizeName(p[0]))
		}
		if LooseKey(p[0]) != LooseKey(p[1]) {
			t.Errorf("loose keys differ: %q → %q, %q → %q", p[0], LooseKey(p[0]), p[1], LooseKey(p[1]))
		}
	}
	if got := LooseKey("Garcia, Maria"); got != "garcia maria" {
		t.Errorf("LooseKey(Garcia, Maria) = %q", got)
	}
	for _, p := range [][2]string{{"Jane Doe", "Jane Dow"}, {"Ann Lee", "Ann Leigh"}, {"Hà", "Hàn"}} {
		if LooseKey(p[0]) == LooseKey(p[1]) {
			t.Errorf("%q and %q share the loose key %q", p[0], p[1], LooseKey(p[0]))
		}
	}
}

func TestResemblance(t *testing.T) {
	tests := []struct{ name, existing, differ string }{
		{"Jose Garcia", "José Garcia", "accents"},
		{"Lê Văn Hạ", "Lê Văn Hà", "accents"},
		{"Strauss", "Strauß", "ß written as ss"},
		{"Ann-Lee", "Ann Lee", "hyphens, apostrophes or punctuation"},
		{"GARCIA MARIA", "Maria Garcia", "the order of the names"},
		{"Lee, Ann", "Ann Lee", "hyphens, apostrophes or punctuation and the order of the names"},
		{"Garcia, Maria", "Maria García", "accents, hyphens, apostrophes or punctuation and the order of the names"},
	}
	for _, tt := range tests {
		got := Resemblance(tt.name, tt.existing)
		want := "(they differ in " + tt.differ + ")"
		if !strings.Contains(got, want) || !strings.Contains(got, `rename the folder to "`+tt.existing+`"`) || !strings.Contains(got, "{id}") {
			t.Errorf("Resemblance(%q, %q) = %q, want it to say %q", tt.name, tt.existing, got, want)
		}
	}
	// Without the existing spelling, the kind of difference is not known.
	if got := Resemblance("Jose Garcia", ""); !strings.Contains(got, "cannot show") || strings.Contains(got, "differ in") || !strings.Contains(got, IDLayout) {
		t.Errorf("Resemblance with no known spelling = %q", got)
	}
	if got := Resemblance("Jane\x1b[2JDoe", "Jane Doe"); strings.ContainsRune(got, 0x1b) {
		t.Errorf("Resemblance prints a control character: %q", got)
	}
}

func TestNormalizeID(t *testing.T) {
	good := map[string]string{"483920": "483920", " MRN-7a ": "mrn-7a", "A.12-3": "a.12-3", "４８３９２０": "483920", "Ａ１": "a1"}
	for in, want := range good {
		if got, err := NormalizeID(in); err != nil || got != want {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "  ", "123 456", "12/3", "1(2)", "1\x00", "A_1", "-", ".-."} {
		if got, err := NormalizeID(in); err == nil {
			t.Errorf("NormalizeID(%q) = %q, accepted", in, got)
		}
	}
}
