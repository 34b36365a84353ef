package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/veil-photo/veil/internal/code"
)

// custodianMagic is the first plaintext line of a custodian file.
const custodianMagic = "veil-custodian v1"

// maxCustodianFile bounds what LoadCustodian reads: a real file is under 1 KiB.
const maxCustodianFile = 64 << 10

// scryptLogN is the scrypt work factor (2^N) for new custodian files: age's
// default, about a second. Tests lower it.
var scryptLogN = 18

// ErrWrongPassphrase is returned by LoadCustodian when the passphrase does not
// decrypt the custodian file.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// Custodian is the secret half of a vault: it decrypts blobs and sealed
// manifest fields, and signs access records.
type Custodian struct {
	Identity   *age.X25519Identity
	SigningKey ed25519.PrivateKey
	VaultID    string // the vault the identity was created for
}

// Verifier returns the public key that checks the custodian's signatures.
func (c *Custodian) Verifier() ed25519.PublicKey {
	return c.SigningKey.Public().(ed25519.PublicKey)
}

func newCustodian(vaultID string) (*Custodian, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Custodian{Identity: id, SigningKey: sk, VaultID: vaultID}, nil
}

func (c *Custodian) marshal() []byte {
	return fmt.Appendf(nil, "%s\nvault %s\nage-identity %s\ned25519-seed %s\n",
		custodianMagic, c.VaultID, c.Identity, base64.StdEncoding.EncodeToString(c.SigningKey.Seed()))
}

func parseCustodian(b []byte) (*Custodian, error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) != 5 || lines[4] != "" {
		return nil, errors.New("malformed contents")
	}
	if lines[0] != custodianMagic {
		if strings.HasPrefix(lines[0], "veil-custodian ") {
			return nil, fmt.Errorf("%w %q (this veil reads %q)", ErrUnsupportedVersion, lines[0], custodianMagic)
		}
		return nil, errors.New("not a veil custodian file")
	}
	field := func(line, key string) (string, error) {
		v, ok := strings.CutPrefix(line, key+" ")
		if !ok || v == "" {
			return "", fmt.Errorf("malformed %q line", key)
		}
		return v, nil
	}
	c := &Custodian{}
	var err error
	if c.VaultID, err = field(lines[1], "vault"); err != nil {
		return nil, err
	}
	if !code.Valid(c.VaultID) {
		return nil, errors.New("malformed vault id")
	}
	s, err := field(lines[2], "age-identity")
	if err != nil {
		return nil, err
	}
	if c.Identity, err = age.ParseX25519Identity(s); err != nil {
		return nil, errors.New("malformed age identity")
	}
	if s, err = field(lines[3], "ed25519-seed"); err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("malformed ed25519 seed")
	}
	c.SigningKey = ed25519.NewKeyFromSeed(seed)
	return c, nil
}

// encryptCustodian returns the custodian file: the identity, age-encrypted
// to the passphrase and armored so it survives being copied as text.
func encryptCustodian(c *Custodian, passphrase []byte) ([]byte, error) {
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(scryptLogN)
	var out bytes.Buffer
	aw := armor.NewWriter(&out)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(c.marshal()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// LoadCustodian reads and decrypts the custodian file at path. A wrong
// passphrase yields an error wrapping ErrWrongPassphrase.
func LoadCustodian(path string, passphrase []byte) (*Custodian, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("custodian file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCustodianFile+1))
	if err != nil {
		return nil, fmt.Errorf("custodian file %s: %w", path, err)
	}
	if len(b) > maxCustodianFile {
		return nil, fmt.Errorf("custodian file %s: too large to be a custodian file", path)
	}
	c, err := decryptCustodian(b, passphrase)
	if err != nil {
		return nil, fmt.Errorf("custodian file %s: %w", path, err)
	}
	return c, nil
}

func decryptCustodian(b, passphrase []byte) (*Custodian, error) {
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, err
	}
	var src io.Reader = bytes.NewReader(b)
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, id)
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		if len(nomatch.StanzaTypes) == 1 && nomatch.StanzaTypes[0] == "scrypt" {
			return nil, ErrWrongPassphrase
		}
		return nil, errors.New("not passphrase-protected: not a veil custodian file")
	}
	if err != nil {
		return nil, fmt.Errorf("not a readable custodian file: %v", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxCustodianFile))
	if err != nil {
		return nil, fmt.Errorf("damaged: %v", err)
	}
	c, err := parseCustodian(plain)
	if err != nil {
		return nil, fmt.Errorf("damaged: %w", err)
	}
	return c, nil
}
