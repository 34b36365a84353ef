package manifest

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Position is the log a custodian-signed record extends: the size and root
// hash of the tree before it. Signed with the record, it binds the record to
// its place: a copy appended elsewhere, or the same record twice, does not
// match the tree it claims to extend (SPEC: access records, no replay).
type Position struct {
	Root string `json:"root"` // standard base64 of the tlog root hash
	Size int64  `json:"size"`
}

// PositionOf returns the position just after the checkpoint c: where the
// next record goes.
func PositionOf(c Checkpoint) *Position {
	return &Position{Size: c.N, Root: base64.StdEncoding.EncodeToString(c.Hash[:])}
}

// Is reports whether p is the position of record index n in a log whose
// tree over records 0..n-1 has the given root.
func (p *Position) Is(n int64, root tlog.Hash) bool {
	return p != nil && p.Size == n && p.Root == base64.StdEncoding.EncodeToString(root[:])
}

func (p *Position) check() error {
	if p == nil {
		return schemaErr("at", "missing")
	}
	if p.Size < 0 {
		return schemaErr("at.size", "%d is negative", p.Size)
	}
	if b, err := base64.StdEncoding.Strict().DecodeString(p.Root); err != nil || len(b) != tlog.HashSize {
		return schemaErr("at.root", "%q is not a base64 tree hash", p.Root)
	}
	return nil
}

// Signature contexts separate what the custodian key signs from anything
// else it might ever sign. v2 of the access context covers the position.
const (
	accessContext = "veil access record v2\n"
	configContext = "veil config record v1\n"
)

// custodianSigned is a record a custodian signs: *Access or *Config.
type custodianSigned interface {
	Record
	signature() (custodian, sig *string)
	context() string
}

func (r *Access) signature() (*string, *string) { return &r.Custodian, &r.Sig }
func (r *Access) context() string               { return accessContext }
func (r *Config) signature() (*string, *string) { return &r.Custodian, &r.Sig }
func (r *Config) context() string               { return configContext }

// signedMessage is what a custodian signs: the canonical record with an
// empty signature, after its context line.
func signedMessage(r custodianSigned) ([]byte, error) {
	c := r.normalize().(custodianSigned)
	_, sig := c.signature()
	*sig = ""
	if err := c.check(); err != nil {
		return nil, err
	}
	b, err := marshalWire(c)
	if err != nil {
		return nil, err
	}
	return append([]byte(c.context()), b...), nil
}

// SignAccess names the custodian's key in a and signs it with key. a.At must
// be the position it will be appended at (PositionOf the log's checkpoint).
// It normalizes a's time to whole UTC seconds first, as Marshal would.
func SignAccess(a *Access, key ed25519.PrivateKey) error {
	a.Time = normTime(a.Time)
	return sign(a, key)
}

// SignConfig names the custodian's key in c and signs it with key; c.At must
// be the position it will be appended at.
func SignConfig(c *Config, key ed25519.PrivateKey) error {
	c.Time = normTime(c.Time)
	return sign(c, key)
}

func sign(r custodianSigned, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("manifest: sign %s: not an ed25519 private key", r.Kind())
	}
	cust, sig := r.signature()
	*cust = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	*sig = ""
	msg, err := signedMessage(r)
	if err != nil {
		return fmt.Errorf("manifest: sign %s: %w", r.Kind(), err)
	}
	*sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
	return nil
}

// Errors of VerifyAccess and VerifyConfig.
var (
	ErrUnsigned         = errors.New("record is not signed")
	ErrUnknownCustodian = errors.New("signed by a key that is not a custodian key of this vault")
	ErrBadSignature     = errors.New("signature does not match the record")
)

// VerifyAccess checks that a is signed by its named custodian key and that
// this key is one of trusted.
func VerifyAccess(a *Access, trusted []ed25519.PublicKey) error { return verifySig(a, trusted) }

// VerifyConfig checks that c is signed by its named custodian key and that
// this key is one of trusted: for the first config of a log, the keys it
// names itself; for a later one, those of the config before it.
func VerifyConfig(c *Config, trusted []ed25519.PublicKey) error { return verifySig(c, trusted) }

func verifySig(r custodianSigned, trusted []ed25519.PublicKey) error {
	cust, s := r.signature()
	if *s == "" {
		return ErrUnsigned
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(*cust)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return ErrUnknownCustodian
	}
	known := false
	for _, k := range trusted {
		if ed25519.PublicKey(pub).Equal(k) {
			known = true
			break
		}
	}
	if !known {
		return ErrUnknownCustodian
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(*s)
	if err != nil {
		return ErrBadSignature
	}
	msg, err := signedMessage(r)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}

// CustodianKeys parses the base64 ed25519 keys of a config record.
func (r *Config) CustodianKeys() []ed25519.PublicKey {
	keys := make([]ed25519.PublicKey, 0, len(r.CustodianVerifiers))
	for _, s := range r.CustodianVerifiers {
		if b, err := base64.StdEncoding.Strict().DecodeString(s); err == nil && len(b) == ed25519.PublicKeySize {
			keys = append(keys, ed25519.PublicKey(b))
		}
	}
	return keys
}

// checkSigner checks the form of a signed record's signer and signature
// fields. An empty signature is valid form: it is what gets signed; verify
// reports an unsigned record as a signature finding.
func checkSigner(custodian, sig string) error {
	if !isEd25519Public(custodian) {
		return schemaErr("custodian", "%q is not a base64 ed25519 public key", custodian)
	}
	if sig != "" {
		if b, err := base64.StdEncoding.Strict().DecodeString(sig); err != nil || len(b) != 64 {
			return schemaErr("sig", "not a base64 ed25519 signature")
		}
	}
	return nil
}
