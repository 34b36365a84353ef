package audit

import (
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"github.com/veil-photo/veil/vault"
)

// TestVaultAuditorPub checks that the vault's own copy of auditor.pub is
// compared with the pinned one: an attacker who swaps the vault's keys
// rewrites it too, hoping the auditor reads it.
func TestVaultAuditorPub(t *testing.T) {
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, path string, pub vault.PublicKeys)
		want   string
	}{
		{"recipient replaced", func(t *testing.T, path string, pub vault.PublicKeys) {
			pub.Recipients = []string{other.Recipient().String()}
			write(t, path, pub.MarshalAuditorPub())
		}, "auditor.pub in the vault: recipients differ from the pinned auditor.pub"},
		{"removed", func(t *testing.T, path string, pub vault.PublicKeys) {
			os.Remove(path)
		}, "auditor.pub in the vault: missing"},
		{"garbled", func(t *testing.T, path string, pub vault.PublicKeys) {
			write(t, path, []byte("veil-auditor-keys v1\n"))
		}, "auditor.pub in the vault: unreadable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			v, err := vault.OpenReadOnly(f.vault)
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(t, v.AuditorPubPath(), v.PublicKeys())
			f.wantFindings(t, tc.want)
		})
	}
}

// TestVaultJSONKeys checks that keys in vault.json that differ from the
// pinned ones are a finding.
func TestVaultJSONKeys(t *testing.T) {
	f := newFixture(t)
	v, err := vault.OpenReadOnly(f.vault)
	if err != nil {
		t.Fatal(err)
	}
	pinned := v.PublicKeys()
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	pinned.Recipients = []string{other.Recipient().String()}
	rep, err := Run(t.Context(), v, Options{PinnedKeys: &pinned})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, x := range rep.Findings {
		if x.String() == "vault.json: recipients differ from the pinned auditor.pub (keys replaced?)" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("findings %v, want vault.json's recipients once", rep.Findings)
	}
}

// TestInsideVault checks the test behind verify's warning about a --pub
// that the vault's owner controls.
func TestInsideVault(t *testing.T) {
	f := newFixture(t)
	v, err := vault.OpenReadOnly(f.vault)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "auditor.pub")
	write(t, outside, read(t, v.AuditorPubPath()))
	link := filepath.Join(t.TempDir(), "link.pub")
	if err := os.Symlink(v.AuditorPubPath(), link); err != nil {
		t.Fatal(err)
	}
	sibling := f.vault + "-other/auditor.pub" // shares the vault's name as a prefix
	write(t, sibling, read(t, v.AuditorPubPath()))
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	relative, err := filepath.Rel(wd, v.AuditorPubPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{v.AuditorPubPath(), true},
		{relative, true},
		{link, true},
		{outside, false},
		{sibling, false},
	} {
		got, err := InsideVault(v, tc.path)
		if err != nil || got != tc.want {
			t.Errorf("InsideVault(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

// TestSwappedRecipientAgainstLog: an insider rewrites vault.json and the
// vault's auditor.pub with their own recipient, and the auditor pins the
// vault's own copy (as older docs showed). The log's config record, signed
// by the custodian, still tells (issue 13, holes 1 and 5).
func TestSwappedRecipientAgainstLog(t *testing.T) {
	f := newFixture(t)
	v, err := vault.Open(f.vault)
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetKeys([]string{attacker.Recipient().String()}, v.PublicKeys().CustodianVerifiers); err != nil {
		t.Fatal(err)
	}
	f.wantFindings(t, "vault.json: recipient "+attacker.Recipient().String()[:20])
	f.wantFindings(t, "of the log's config is missing")
}
