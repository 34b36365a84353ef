package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/note"
)

// FormatVersion is the version of vault.json (and of the vault layout) this
// package reads and writes.
const FormatVersion = 1

// Config is the public configuration in VAULT/vault.json.
type Config struct {
	Version            int      `json:"version"`
	ID                 string   `json:"id"`                  // random UUIDv4
	Recipients         []string `json:"recipients"`          // age1... X25519 recipients: custodian first, then extra
	LogVerifier        string   `json:"log_verifier"`        // note verifier key named "veil/<id>"
	CustodianVerifiers []string `json:"custodian_verifiers"` // standard base64 of ed25519 public keys
}

// ConfigError reports a vault.json that this build cannot use.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *ConfigError) Unwrap() error { return e.Err }

// ErrUnsupportedVersion is wrapped by errors for a vault.json or auditor.pub
// whose format version this build does not know.
var ErrUnsupportedVersion = errors.New("unsupported format version")

// parseConfig decodes vault.json strictly: unknown fields, trailing data, a
// missing field or a version other than FormatVersion are errors, because a
// vault written by a newer veil must not be half-understood.
func parseConfig(b []byte) (Config, error) {
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %v", err)
	}
	if probe.Version == nil {
		return Config{}, errors.New(`missing "version"`)
	}
	if *probe.Version != FormatVersion {
		return Config{}, fmt.Errorf("%w %d (this veil reads version %d; use a matching veil)", ErrUnsupportedVersion, *probe.Version, FormatVersion)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("invalid: %v", err)
	}
	if err := c.publicKeys().validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c Config) marshal() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return append(b, '\n')
}

func (c Config) publicKeys() PublicKeys {
	return PublicKeys{
		VaultID:            c.ID,
		Recipients:         append([]string(nil), c.Recipients...),
		LogVerifier:        c.LogVerifier,
		CustodianVerifiers: append([]string(nil), c.CustodianVerifiers...),
	}
}

// validate checks that every key parses and that the log verifier is named
// for this vault, so that a config or auditor.pub never names keys of
// another vault.
func (p PublicKeys) validate() error {
	if !code.Valid(p.VaultID) {
		return fmt.Errorf("vault id %q is not a UUIDv4", p.VaultID)
	}
	if len(p.Recipients) == 0 {
		return errors.New("no recipients")
	}
	seen := map[string]bool{}
	for _, r := range p.Recipients {
		if _, err := parseRecipient(r); err != nil {
			return err
		}
		if seen[r] {
			return fmt.Errorf("recipient %s listed twice", r)
		}
		seen[r] = true
	}
	v, err := note.NewVerifier(p.LogVerifier)
	if err != nil {
		return fmt.Errorf("log verifier key: %v", err)
	}
	if want := origin(p.VaultID); v.Name() != want {
		return fmt.Errorf("log verifier key is named %q, want %q", v.Name(), want)
	}
	if len(p.CustodianVerifiers) == 0 {
		return errors.New("no custodian verifier keys")
	}
	for _, s := range p.CustodianVerifiers {
		if _, err := parseEd25519Public(s); err != nil {
			return err
		}
	}
	return nil
}

func origin(id string) string { return "veil/" + id }

// parseRecipient accepts only native X25519 recipients: they are what the
// custodian identity is, and age refuses to mix them with post-quantum ones.
func parseRecipient(s string) (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(s)
	if err != nil {
		return nil, fmt.Errorf("recipient %q is not an age X25519 public key (age1...): %v", s, err)
	}
	return r, nil
}

func parseEd25519Public(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize || base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("custodian verifier key %q is not a base64 ed25519 public key", s)
	}
	return ed25519.PublicKey(b), nil
}
