package custody

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Init creates a vault (see vault.Init) whose log begins with a config
// record of its public keys signed by the new custodian: from then on, a
// recipient written into vault.json by anyone else is refused by ingest and
// reported by verify.
func Init(dir, custodianOut string, opts vault.InitOptions) (*vault.Vault, error) {
	opts.StartLog = func(v *vault.Vault, c *vault.Custodian) error {
		_, err := appendConfig(v, c, v.PublicKeys().Recipients)
		return err
	}
	return vault.Init(dir, custodianOut, opts)
}

// KeysChangedError refuses to act on a vault whose vault.json names other
// keys than the latest config record in its log: someone changed vault.json
// without a custodian (or a custodian's change was interrupted: running the
// same change again completes it).
type KeysChangedError struct {
	Differences []string
}

// Error names the first difference and what to do.
func (e *KeysChangedError) Error() string {
	more := ""
	if len(e.Differences) > 1 {
		more = fmt.Sprintf(" (and %d more differences)", len(e.Differences)-1)
	}
	return fmt.Sprintf("vault.json differs from the keys a custodian committed in the log: %s%s; nothing was done — restore vault.json from the log's keys with 'veil rekey', or find out who changed it", e.Differences[0], more)
}

// ErrNoConfig is returned by CheckKeys for a log that holds no config
// record: a vault made before config records, whose keys no custodian has
// committed yet.
var ErrNoConfig = errors.New("the log holds no record of the vault's keys (a vault made by an older veil): the custodian must run 'veil rekey' once to commit them, after checking them")

// CheckKeys compares vault.json with the latest config record of the log,
// which the caller holds open (so every record in it is one this host or a
// custodian wrote). Ingest calls it before encrypting anything.
func CheckKeys(v *vault.Vault) error {
	cfg, err := manifest.LatestConfig(v.LogDir())
	if err != nil {
		return fmt.Errorf("custody: %w", err)
	}
	if cfg == nil {
		return ErrNoConfig
	}
	return compareKeys(cfg, v.PublicKeys())
}

func compareKeys(cfg *manifest.Config, p vault.PublicKeys) error {
	if d := cfg.Differences(p.VaultID, p.Recipients, p.LogVerifier, p.CustodianVerifiers); len(d) > 0 {
		return &KeysChangedError{Differences: d}
	}
	return nil
}

// KeyChange is a custodian's change of the vault's age recipients: a
// second custodian or an offline backup key added, a departed one removed.
type KeyChange struct {
	Add, Remove []string
}

// Rekeyed is what Rekey did.
type Rekeyed struct {
	Recipients []string // the vault's recipients now
	Record     int64    // the config record appended, or -1 if the log already held them
	Receipt    []byte   // the signed checkpoint after the change
}

// Rekey changes the vault's age recipients, by a custodian: it verifies the
// log, applies the change to the recipients the log holds (vault.json's only
// for a vault made before config records: the custodian vouches for them by
// running this), appends a config record signed by id, and then rewrites
// vault.json and auditor.pub. The custodian's own recipient must stay
// (otherwise no one could restore what is encrypted from now on). With no
// change it commits the recipients in effect: that is how an older vault
// gets its first config record, and how a vault.json left behind by an
// interrupted change, or changed by someone else, is put right.
func (cv *Vault) Rekey(ctx context.Context, id *vault.Custodian, change KeyChange) (*Rekeyed, error) {
	v := cv.v
	lock, err := vault.AcquireLock(ctx, v.Dir(), "veil rekey", LockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	rep, err := cv.verify(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	trusted, err := v.CustodianVerifiers()
	if err != nil {
		return nil, err
	}
	base := v.PublicKeys().Recipients
	if rep.Config != nil {
		trusted, base = rep.Config.CustodianKeys(), rep.Config.Recipients
	}
	if !slices.ContainsFunc(trusted, func(k ed25519.PublicKey) bool { return k.Equal(id.Verifier()) }) {
		return nil, ErrNotCustodian
	}
	recipients := slices.DeleteFunc(slices.Clone(base), func(r string) bool { return slices.Contains(change.Remove, r) })
	for _, r := range change.Add {
		if _, err := age.ParseX25519Recipient(r); err != nil {
			return nil, fmt.Errorf("custody: %q is not an age X25519 recipient (age1...)", r)
		}
		if !slices.Contains(recipients, r) {
			recipients = append(recipients, r)
		}
	}
	if !slices.Contains(recipients, id.Identity.Recipient().String()) {
		return nil, fmt.Errorf("custody: the custodian's own recipient %s must stay among the recipients", id.Identity.Recipient())
	}
	done := &Rekeyed{Recipients: recipients, Record: -1}
	if rep.Config == nil || !sameSet(rep.Config.Recipients, recipients) {
		if done.Record, err = appendConfig(v, id, recipients); err != nil {
			return nil, err
		}
	}
	custodians := v.PublicKeys().CustodianVerifiers
	if rep.Config != nil {
		custodians = rep.Config.CustodianVerifiers
	}
	if !sameSet(v.PublicKeys().Recipients, recipients) || !sameSet(v.PublicKeys().CustodianVerifiers, custodians) {
		if err := v.SetKeys(recipients, custodians); err != nil {
			return nil, fmt.Errorf("custody: the change is logged but vault.json was not rewritten: %w; run the same command again", err)
		}
	}
	if done.Receipt, err = os.ReadFile(filepath.Join(v.LogDir(), manifest.CheckpointFile)); err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	return done, nil
}

// appendConfig signs a config record of v's keys with recipients and
// appends it at the log's end. The caller holds the vault lock (or is
// creating the vault).
func appendConfig(v *vault.Vault, id *vault.Custodian, recipients []string) (int64, error) {
	p := v.PublicKeys()
	record, err := appendSigned(v, func(at *manifest.Position) (manifest.Record, error) {
		c := &manifest.Config{
			Vault: p.VaultID, Recipients: recipients, LogVerifier: p.LogVerifier,
			CustodianVerifiers: p.CustodianVerifiers, Time: time.Now(), At: at,
		}
		return c, manifest.SignConfig(c, id.SigningKey)
	})
	if err != nil {
		return -1, fmt.Errorf("custody: %w", err)
	}
	return record, nil
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
