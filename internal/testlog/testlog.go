// Package testlog writes records into a vault's log for tests that build a
// vault's history by hand rather than through ingest.
package testlog

import (
	"testing"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Append appends recs to the log of v, signed with v's log key, as one
// batch, and closes the log again.
func Append(t testing.TB, v *vault.Vault, recs []manifest.Record) {
	t.Helper()
	signer, err := v.LogSigner()
	if err != nil {
		t.Fatal(err)
	}
	l, err := manifest.Open(v.LogDir(), v.Origin(), signer)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(recs); err != nil {
		t.Fatal(err)
	}
}
