package manifest

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
)

// accessContext separates access signatures from anything else the
// custodian key might ever sign.
const accessContext = "veil access record v1\n"

// accessMessage is what a custodian signs: the canonical record with an empty
// signature, after a context line.
func accessMessage(a *Access) ([]byte, error) {
	c := a.normalize().(*Access)
	c.Sig = ""
	if err := c.check(); err != nil {
		return nil, err
	}
	b, err := marshalWire(c)
	if err != nil {
		return nil, err
	}
	return append([]byte(accessContext), b...), nil
}

// SignAccess names the custodian's key in a and signs it with key. It
// normalizes a's time to whole UTC seconds first, as Marshal would.
func SignAccess(a *Access, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("manifest: sign access: not an ed25519 private key")
	}
	a.Time = normTime(a.Time)
	a.Custodian = base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	a.Sig = ""
	msg, err := accessMessage(a)
	if err != nil {
		return fmt.Errorf("manifest: sign access: %w", err)
	}
	a.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg))
	return nil
}

// Errors of VerifyAccess.
var (
	ErrUnsigned         = errors.New("access record is not signed")
	ErrUnknownCustodian = errors.New("signed by a key that is not a custodian key of this vault")
	ErrBadSignature     = errors.New("signature does not match the record")
)

// VerifyAccess checks that a is signed by its named custodian key and that
// this key is one of trusted.
func VerifyAccess(a *Access, trusted []ed25519.PublicKey) error {
	if a.Sig == "" {
		return ErrUnsigned
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(a.Custodian)
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
	sig, err := base64.StdEncoding.Strict().DecodeString(a.Sig)
	if err != nil {
		return ErrBadSignature
	}
	msg, err := accessMessage(a)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}
