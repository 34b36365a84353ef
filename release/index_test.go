package release

import (
	"errors"
	"strings"
	"testing"

	"github.com/veil-photo/veil/internal/code"
)

func TestRowRoundTrip(t *testing.T) {
	p, _ := code.New()
	s, _ := code.New()
	for _, iv := range []string{"", "P2W", "P6M", "P1Y", "P1Y6M"} {
		r := Row{Photo: p, Subject: s, Phase: "followup", Interval: iv, Format: "jpeg", Width: 4032, Height: 3024, SHA256: strings.Repeat("ab", 32)}
		back, err := ParseRow(r.Line())
		if err != nil || back != r {
			t.Fatalf("%q: %+v, %v", r.Line(), back, err)
		}
	}
	if got := (Row{Photo: p, Subject: s, Format: "jpeg"}).Path(); got != s.String()+"/"+p.String()+".jpg" {
		t.Fatalf("Path = %s", got)
	}
}

func TestReadIndexStrict(t *testing.T) {
	p, _ := code.New()
	s, _ := code.New()
	good := Row{Photo: p, Subject: s, Phase: "before", Format: "png", Width: 1, Height: 2, SHA256: strings.Repeat("0", 64)}.Line()
	var n int
	if err := ReadIndex(strings.NewReader(Header+good+good), func(int, Row) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("good index: %d rows, %v", n, err)
	}
	for name, text := range map[string]string{
		"empty":       "",
		"old header":  "photo,subject,phase,format,width,height,sha256\n" + good,
		"cut short":   Header + strings.TrimSuffix(good, "\n"),
		"upper":       Header + strings.ToUpper(good),
		"extra field": Header + strings.TrimSuffix(good, "\n") + ",x\n",
		"quoted":      Header + `"` + good,
		"bad phase":   Header + strings.Replace(good, ",before,", ",Before,", 1),
		"bad number":  Header + strings.Replace(good, ",1,2,", ",01,2,", 1),
		"bad sum":     Header + strings.Replace(good, strings.Repeat("0", 64), strings.Repeat("0", 63), 1),
		"bad period":  Header + strings.Replace(good, ",before,,", ",before,2W,", 1),
	} {
		err := ReadIndex(strings.NewReader(text), func(int, Row) error { return nil })
		var re *RowError
		if err == nil || !(errors.As(err, &re) || errors.Is(err, ErrHeader)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseRow(f *testing.F) {
	f.Add("0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5b,0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5c,after,P6M,jpeg,10,20," + strings.Repeat("a", 64) + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRow(s)
		if err != nil {
			return
		}
		if r.Line() != strings.TrimSuffix(s, "\n")+"\n" {
			t.Fatalf("ParseRow(%q) then Line = %q", s, r.Line())
		}
	})
}
