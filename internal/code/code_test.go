package code

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNewIsV4AndRoundTrips(t *testing.T) {
	seen := map[Code]bool{}
	for i := 0; i < 1000; i++ {
		c, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			t.Fatalf("code %s issued twice", c)
		}
		seen[c] = true
		p, err := Parse(c.String())
		if err != nil || p != c {
			t.Fatalf("Parse(%s) = %s, %v", c, p, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := "0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
	if _, err := Parse(good); err != nil {
		t.Fatalf("Parse(%q): %v", good, err)
	}
	for _, s := range []string{
		"",
		strings.ToUpper(good),
		"{" + good + "}",
		"urn:uuid:" + good,
		"0b7e1f4c2d3a4e5f8a9b0c1d2e3f4a5b",
		"0b7e1f4c-2d3a-1e5f-8a9b-0c1d2e3f4a5b", // version 1
		"0b7e1f4c-2d3a-7e5f-8a9b-0c1d2e3f4a5b", // version 7
		"0b7e1f4c-2d3a-4e5f-ca9b-0c1d2e3f4a5b", // wrong variant
		"0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5",
		"0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5bb",
		"0b7e1f4c-2d3a-4e5f+8a9b-0c1d2e3f4a5b",
		"0b7e1f4g-2d3a-4e5f-8a9b-0c1d2e3f4a5b",
		"00000000-0000-0000-0000-000000000000",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestJSON(t *testing.T) {
	c, _ := New()
	b, err := json.Marshal(struct{ C Code }{c})
	if err != nil {
		t.Fatal(err)
	}
	var back struct{ C Code }
	if err := json.Unmarshal(b, &back); err != nil || back.C != c {
		t.Fatalf("round trip %s: %s, %v", b, back.C, err)
	}
	if err := json.Unmarshal([]byte(`{"C":"not a code"}`), &back); err == nil {
		t.Fatal("bad code accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("0b7e1f4c-2d3a-4e5f-8a9b-0c1d2e3f4a5b")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		if c.String() != s {
			t.Fatalf("Parse(%q) then String = %q", s, c.String())
		}
	})
}
