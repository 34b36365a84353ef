package manifest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"
)

// newConfig returns a config record for a fresh vault and the log keys of
// that vault, signed at position at by custodian.
func newConfig(t *testing.T, custodian ed25519.PrivateKey) (*Config, *keys) {
	t.Helper()
	id := newUUID(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "veil/"+id)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	ident, _ := age.GenerateX25519Identity()
	k := &keys{origin: "veil/" + id, signer: s, verifier: v, identity: ident, custodian: custodian}
	c := &Config{
		Vault:              id,
		Recipients:         []string{ident.Recipient().String()},
		LogVerifier:        vkey,
		CustodianVerifiers: []string{base64.StdEncoding.EncodeToString(custodian.Public().(ed25519.PublicKey))},
		Time:               testTime,
	}
	return c, k
}

func TestConfigRecord(t *testing.T) {
	_, cust, _ := ed25519.GenerateKey(rand.Reader)
	c, k := newConfig(t, cust)
	dir := t.TempDir()
	l := openLog(t, dir, k)
	if got, err := LatestConfig(dir); err != nil || got != nil {
		t.Fatalf("empty log: %v, %v", got, err)
	}
	cp, _ := l.Checkpoint()
	c.At = PositionOf(cp)
	if err := SignConfig(c, cust); err != nil {
		t.Fatal(err)
	}
	if err := VerifyConfig(c, c.CustodianKeys()); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if _, err := l.Append([]Record{c}); err != nil {
		t.Fatal(err)
	}
	// Many records after it: LatestConfig still finds it, across chunks.
	for range 40 {
		if _, err := l.Append(quarantines(t, k, 100)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LatestConfig(dir)
	if err != nil || got == nil || got.Recipients[0] != c.Recipients[0] || got.Sig != c.Sig {
		t.Fatalf("LatestConfig = %+v, %v", got, err)
	}

	// A second config, by the same custodian, adding a recipient.
	second := *c
	other, _ := age.GenerateX25519Identity()
	second.Recipients = append(second.Recipients, other.Recipient().String())
	cp, _ = l.Checkpoint()
	second.At = PositionOf(cp)
	if err := SignConfig(&second, cust); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]Record{&second, quarantines(t, k, 1)[0]}); err != nil {
		t.Fatal(err)
	}
	got, err = LatestConfig(dir)
	if err != nil || got == nil || len(got.Recipients) != 2 {
		t.Fatalf("after a change: %+v, %v", got, err)
	}
	if !got.At.Is(cp.N, cp.Hash) {
		t.Error("position does not round-trip")
	}

	// Changing any field breaks the signature; another key is unknown.
	tampered := *got
	tampered.Recipients = []string{other.Recipient().String()}
	if err := VerifyConfig(&tampered, c.CustodianKeys()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("swapped recipient: %v", err)
	}
	moved := *got
	moved.At = &Position{Size: got.At.Size + 1, Root: got.At.Root}
	if err := VerifyConfig(&moved, c.CustodianKeys()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("moved record: %v", err)
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	if err := VerifyConfig(got, []ed25519.PublicKey{stranger.Public().(ed25519.PublicKey)}); !errors.Is(err, ErrUnknownCustodian) {
		t.Errorf("unknown custodian: %v", err)
	}
}

func TestConfigSchema(t *testing.T) {
	_, cust, _ := ed25519.GenerateKey(rand.Reader)
	for name, edit := range map[string]func(c *Config){
		"no recipients":         func(c *Config) { c.Recipients = nil },
		"bad recipient":         func(c *Config) { c.Recipients = []string{"age1notakey"} },
		"log key of another id": func(c *Config) { c.Vault = newUUID(t) },
		"no position":           func(c *Config) { c.At = nil },
		"bad custodian key":     func(c *Config) { c.CustodianVerifiers = []string{"AAAA"} },
	} {
		c, _ := newConfig(t, cust)
		c.At = &Position{Size: 0, Root: base64.StdEncoding.EncodeToString(make([]byte, 32))}
		edit(c)
		if err := SignConfig(c, cust); err == nil {
			t.Errorf("%s: signed", name)
		} else if !strings.Contains(err.Error(), "sign config") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestConfigDifferences(t *testing.T) {
	_, cust, _ := ed25519.GenerateKey(rand.Reader)
	c, _ := newConfig(t, cust)
	if d := c.Differences(c.Vault, c.Recipients, c.LogVerifier, c.CustodianVerifiers); len(d) != 0 {
		t.Fatalf("same keys: %v", d)
	}
	attacker, _ := age.GenerateX25519Identity()
	d := c.Differences(c.Vault, []string{attacker.Recipient().String()}, c.LogVerifier, c.CustodianVerifiers)
	if len(d) != 2 || !strings.Contains(d[0], "recipient "+attacker.Recipient().String()[:20]) || !strings.Contains(d[1], "is missing") {
		t.Fatalf("swapped recipient: %v", d)
	}
}

// TestVerifyConfigChain: the first config must be signed by a pinned
// custodian key, a later one by a key of the config before it, each at its
// place; the report names the keys in effect at the end.
func TestVerifyConfigChain(t *testing.T) {
	_, cust, _ := ed25519.GenerateKey(rand.Reader)
	c, k := newConfig(t, cust)
	k.custodian = cust
	dir := t.TempDir()
	l := openLog(t, dir, k)
	appendConfig := func(c *Config, key ed25519.PrivateKey) {
		t.Helper()
		cp, _ := l.Checkpoint()
		c.At = PositionOf(cp)
		if err := SignConfig(c, key); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append([]Record{c}); err != nil {
			t.Fatal(err)
		}
	}
	appendConfig(c, cust)
	l.Append(quarantines(t, k, 3))
	rep := verifyLog(t, dir, k, nil)
	if !rep.OK() || rep.Config == nil || rep.ConfigRecord != 0 {
		t.Fatalf("one config: %v, %+v", rep.Findings, rep.Config)
	}

	// A rotation to a new custodian key, signed by the old one.
	_, cust2, _ := ed25519.GenerateKey(rand.Reader)
	next := *c
	next.CustodianVerifiers = []string{base64.StdEncoding.EncodeToString(cust2.Public().(ed25519.PublicKey))}
	appendConfig(&next, cust)
	rep = verifyLog(t, dir, k, nil)
	if !rep.OK() || rep.ConfigRecord != 4 {
		t.Fatalf("rotation: %v, record %d", rep.Findings, rep.ConfigRecord)
	}

	// The old key may no longer change anything.
	late := next
	attacker, _ := age.GenerateX25519Identity()
	late.Recipients = []string{attacker.Recipient().String()}
	appendConfig(&late, cust)
	rep = verifyLog(t, dir, k, nil)
	if rep.OK() || rep.ConfigRecord != 4 || !strings.Contains(rep.Findings[0].String(), "record 5: config signature: signed by a key that is not a custodian key") {
		t.Fatalf("config by a retired key: %v, record %d", rep.Findings, rep.ConfigRecord)
	}
}
