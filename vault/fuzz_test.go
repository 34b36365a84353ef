package vault

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseAuditorPub checks that the strict parser never panics and accepts
// only the canonical form: whatever parses must marshal back to the same bytes.
func FuzzParseAuditorPub(f *testing.F) {
	v, _ := newTestVault(f, "age1rzch8ndsqye4rhecrlgpp02cq7fs7rdltk3gwh78k2l96hptuctszh37m8")
	b, err := os.ReadFile(filepath.Join(v.Dir(), auditorFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(auditorMagic + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseAuditorPub(b)
		if err != nil {
			return
		}
		if got := p.MarshalAuditorPub(); !bytes.Equal(got, b) {
			t.Errorf("accepted a non-canonical file:\n%q\nmarshals to\n%q", b, got)
		}
	})
}

// FuzzParseConfig checks that vault.json parsing never panics and that what
// it accepts survives a marshal and parse round trip unchanged.
func FuzzParseConfig(f *testing.F) {
	v, _ := newTestVault(f)
	b, err := os.ReadFile(filepath.Join(v.Dir(), configFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"id":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseConfig(b)
		if err != nil {
			return
		}
		c2, err := parseConfig(c.marshal())
		if err != nil || !c2.publicKeys().Equal(c.publicKeys()) || c2.Version != c.Version {
			t.Errorf("round trip of %q: %v", b, err)
		}
	})
}

// FuzzParseCustodian checks the decrypted custodian contents parser.
func FuzzParseCustodian(f *testing.F) {
	c, err := newCustodian("6f1c2a9e-3b4d-4c5e-9f60-718293a4b5c6")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCustodian(b)
		if err != nil {
			return
		}
		if got := c.marshal(); !bytes.Equal(got, b) {
			t.Errorf("accepted a non-canonical custodian file:\n%q\nmarshals to\n%q", b, got)
		}
	})
}
