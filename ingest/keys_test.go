package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/vault"
)

// TestSwappedRecipientRefused: someone who can write the vault folder puts
// their own age recipient into vault.json. Ingest must refuse before a byte
// is encrypted, name the difference, and leave the inbox alone (issue 13,
// hole 1).
func TestSwappedRecipientRefused(t *testing.T) {
	for _, dry := range []bool{false, true} {
		e := newEnv(t)
		put(t, e.inbox, "Jane Doe/before/a.jpg", sample(t, "phone-rotated6.jpg"))
		attacker, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		// Both files, as an attacker would: vault.json and auditor.pub.
		w, err := vault.Open(e.v.Dir())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.SetKeys(append(w.PublicKeys().Recipients, attacker.Recipient().String()), w.PublicKeys().CustodianVerifiers); err != nil {
			t.Fatal(err)
		}
		v, err := vault.Open(e.v.Dir())
		if err != nil {
			t.Fatal(err)
		}
		var lock *vault.Lock
		if !dry {
			lock = e.lock(t)
		}
		_, err = New(v, lock, Options{Release: e.release, DryRun: dry})
		var kc *custody.KeysChangedError
		if !errors.As(err, &kc) || !strings.Contains(err.Error(), attacker.Recipient().String()[:20]) {
			t.Fatalf("dry %v: New = %v, want a KeysChangedError naming the recipient", dry, err)
		}
		blobs, _ := os.ReadDir(filepath.Join(e.v.Dir(), "blobs"))
		if len(blobs) != 0 || !exists(filepath.Join(e.inbox, "Jane Doe/before/a.jpg")) {
			t.Errorf("dry %v: something was stored or removed after the refusal", dry)
		}
	}
}
