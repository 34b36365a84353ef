package custody

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// TestRekey: a custodian's change of recipients is a signed config record
// first and vault.json second; a vault.json someone else changed is refused
// by CheckKeys and put right by a plain rekey; the custodian's own
// recipient cannot be removed.
func TestRekey(t *testing.T) {
	f := newFixture(t, "a.png")
	ctx := context.Background()
	v, err := vault.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKeys(v); err != nil {
		t.Fatalf("fresh vault: %v", err)
	}
	second, _ := age.GenerateX25519Identity()
	done, err := f.open(t).Rekey(ctx, f.id, KeyChange{Add: []string{second.Recipient().String()}})
	if err != nil {
		t.Fatal(err)
	}
	recs := f.records(t)
	c, ok := recs[done.Record].(*manifest.Config)
	if !ok || !slices.Contains(c.Recipients, second.Recipient().String()) || len(done.Recipients) != 2 {
		t.Fatalf("record %d: %+v", done.Record, recs[done.Record])
	}
	if !bytes.Contains(done.Receipt, []byte("\n\n— veil/")) {
		t.Errorf("receipt %q is not a signed checkpoint", done.Receipt)
	}
	if v, _ = vault.Open(f.dir); !slices.Contains(v.PublicKeys().Recipients, second.Recipient().String()) || CheckKeys(v) != nil {
		t.Fatalf("vault.json after rekey: %v, %v", v.PublicKeys().Recipients, CheckKeys(v))
	}

	// Someone swaps vault.json's recipients for their own.
	attacker, _ := age.GenerateX25519Identity()
	if err := v.SetKeys([]string{attacker.Recipient().String()}, v.PublicKeys().CustodianVerifiers); err != nil {
		t.Fatal(err)
	}
	v, _ = vault.Open(f.dir)
	var kc *KeysChangedError
	if err := CheckKeys(v); !errors.As(err, &kc) || len(kc.Differences) != 3 {
		t.Fatalf("swapped vault.json: %v", err)
	}
	// An access refuses too: it would sign a log whose keys lie.
	if _, err := f.open(t).Reveal(ctx, f.id, Request{Codes: f.photos, Reason: "audit"}); !errors.As(err, &kc) {
		t.Errorf("reveal on a swapped vault.json: %v", err)
	}
	n := len(f.records(t))
	if done, err = f.open(t).Rekey(ctx, f.id, KeyChange{}); err != nil || done.Record != -1 {
		t.Fatalf("plain rekey: %+v, %v", done, err)
	}
	if v, _ = vault.Open(f.dir); CheckKeys(v) != nil || len(f.records(t)) != n {
		t.Fatalf("plain rekey did not restore vault.json from the log: %v", CheckKeys(v))
	}

	if _, err := f.open(t).Rekey(ctx, f.id, KeyChange{Remove: []string{f.id.Identity.Recipient().String()}}); err == nil {
		t.Error("the custodian's own recipient was removed")
	}
}
