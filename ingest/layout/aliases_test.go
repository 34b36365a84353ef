package layout

import (
	"strings"
	"testing"
)

func TestParseVocabulary(t *testing.T) {
	v, err := ParseVocabulary([]string{"recheck=followup:P6W", "vorher=before"})
	if err != nil {
		t.Fatal(err)
	}
	lay, err := ParseLayout("{patient}/{phase}/*", v)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := lay.Match("Ann/vorher/a.png"); err != nil || p.Phase != "before" {
		t.Errorf("an alias is not a phase word: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		aliases []string
		want    string
	}{
		{[]string{"recheck"}, `phase alias "recheck": write WORD=PHASE`},
		{[]string{"6mo=followup:P26W"}, "already means followup P6M"},
	} {
		if _, err := ParseVocabulary(tc.aliases); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.aliases, err, tc.want)
		}
	}
}
