package vault

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// auditorMagic is the first line of auditor.pub and carries its version.
const auditorMagic = "veil-auditor-keys v1"

// PublicKeys are the keys an auditor pins: everything needed to verify a
// vault's log and access records, and nothing that can decrypt or sign.
type PublicKeys struct {
	VaultID            string
	Recipients         []string
	LogVerifier        string
	CustodianVerifiers []string
}

// PublicKeys returns the vault's public keys.
func (v *Vault) PublicKeys() PublicKeys { return v.cfg.publicKeys() }

// AuditorPubPath returns the path of the vault's own copy of auditor.pub,
// which init writes for the auditor to pin outside the vault.
func (v *Vault) AuditorPubPath() string { return filepath.Join(v.dir, auditorFile) }

// Verifiers are a vault's public keys parsed for checking: the log's
// checkpoint signatures and the custodians' access-record signatures.
type Verifiers struct {
	Origin     string              // the log's origin line, "veil/<vault id>"
	Log        note.Verifier       // verifies checkpoint signatures
	Custodians []ed25519.PublicKey // keys allowed to sign access records
}

// Verifiers parses the verifier keys of p with the same rules as vault.json
// and auditor.pub, so an audit trusts exactly the keys the vault accepts.
func (p PublicKeys) Verifiers() (Verifiers, error) {
	lv, err := note.NewVerifier(p.LogVerifier)
	if err != nil {
		return Verifiers{}, fmt.Errorf("vault: log verifier key: %w", err)
	}
	if want := origin(p.VaultID); lv.Name() != want {
		return Verifiers{}, fmt.Errorf("vault: log verifier key is named %q, want %q", lv.Name(), want)
	}
	vs := Verifiers{Origin: origin(p.VaultID), Log: lv}
	for _, s := range p.CustodianVerifiers {
		k, err := parseEd25519Public(s)
		if err != nil {
			return Verifiers{}, fmt.Errorf("vault: %w", err)
		}
		vs.Custodians = append(vs.Custodians, k)
	}
	return vs, nil
}

// MarshalAuditorPub returns p in the auditor.pub format (see the package doc).
func (p PublicKeys) MarshalAuditorPub() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nvault %s\n", auditorMagic, p.VaultID)
	for _, r := range p.Recipients {
		fmt.Fprintf(&b, "recipient %s\n", r)
	}
	fmt.Fprintf(&b, "log-verifier %s\n", p.LogVerifier)
	for _, k := range p.CustodianVerifiers {
		fmt.Fprintf(&b, "custodian-verifier %s\n", k)
	}
	return b.Bytes()
}

// Equal reports whether p and q name exactly the same keys in the same order.
func (p PublicKeys) Equal(q PublicKeys) bool {
	return bytes.Equal(p.MarshalAuditorPub(), q.MarshalAuditorPub())
}

// ParseAuditorPub parses an auditor.pub file strictly: the lines must be
// exactly as MarshalAuditorPub writes them and every key must be valid. A
// pinned file that is even slightly off is rejected rather than guessed at.
func ParseAuditorPub(b []byte) (*PublicKeys, error) {
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("auditor.pub: line %d: %s", line, fmt.Sprintf(format, args...))
	}
	if len(b) == 0 {
		return nil, errors.New("auditor.pub: empty file")
	}
	if b[len(b)-1] != '\n' {
		return nil, errors.New("auditor.pub: does not end in a newline (truncated?)")
	}
	if bytes.IndexByte(b, '\r') >= 0 {
		return nil, errors.New("auditor.pub: contains carriage returns (converted to CRLF line endings?)")
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if lines[0] != auditorMagic {
		if strings.HasPrefix(lines[0], "veil-auditor-keys ") {
			return nil, fmt.Errorf("auditor.pub: %w %q (this veil reads %q)", ErrUnsupportedVersion, lines[0], auditorMagic)
		}
		return nil, bad(1, "not a veil auditor key file (want %q)", auditorMagic)
	}
	var p PublicKeys
	// order is the sequence of keys; a key with many=true repeats.
	order := []struct {
		key  string
		many bool
		set  func(string)
	}{
		{"vault", false, func(s string) { p.VaultID = s }},
		{"recipient", true, func(s string) { p.Recipients = append(p.Recipients, s) }},
		{"log-verifier", false, func(s string) { p.LogVerifier = s }},
		{"custodian-verifier", true, func(s string) { p.CustodianVerifiers = append(p.CustodianVerifiers, s) }},
	}
	i := 1
	for _, o := range order {
		n := 0
		for i < len(lines) {
			key, val, ok := strings.Cut(lines[i], " ")
			if key != o.key {
				break
			}
			if !ok || val == "" || strings.ContainsAny(val, " \t\r") {
				return nil, bad(i+1, "malformed %q line", o.key)
			}
			if n > 0 && !o.many {
				return nil, bad(i+1, "%q given twice", o.key)
			}
			o.set(val)
			n++
			i++
		}
		if n == 0 {
			if i < len(lines) {
				return nil, bad(i+1, "want %q, found %q", o.key, lines[i])
			}
			return nil, bad(i+1, "missing %q", o.key)
		}
	}
	if i < len(lines) {
		return nil, bad(i+1, "unexpected line %q", lines[i])
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("auditor.pub: %w", err)
	}
	return &p, nil
}
