package manifest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// Detail is what a record keeps sealed: everything about the original that
// could identify the patient. Only a custodian identity can open it.
type Detail struct {
	Path       string    `json:"path"`                  // original path as found in the inbox
	Name       string    `json:"name"`                  // original file name
	PatientKey string    `json:"patient_key,omitempty"` // patient as read from the path by the layout
	Phase      string    `json:"phase,omitempty"`       // phase as written in the path, before mapping
	SHA256     string    `json:"sha256"`                // hex SHA-256 of the original bytes
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mtime"`
	Message    string    `json:"message,omitempty"` // for quarantine: what exactly went wrong
}

// ageMagic starts every age file; a sealed field that does not start with it
// is not ciphertext and may be leaking plain text.
const ageMagic = "age-encryption.org/v1\n"

// maxSealed bounds the sealed field of one record.
const maxSealed = 48 << 10

// Seal encrypts d to the recipients (the vault's custodian recipients) and
// returns the base64 form stored in a record's sealed field.
func Seal(d Detail, recipients []age.Recipient) (string, error) {
	if len(recipients) == 0 {
		return "", errors.New("manifest: seal: no recipients")
	}
	d.ModTime = d.ModTime.UTC()
	plain, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return "", fmt.Errorf("manifest: seal: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return "", fmt.Errorf("manifest: seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("manifest: seal: %w", err)
	}
	s := base64.StdEncoding.EncodeToString(buf.Bytes())
	if len(s) > maxSealed {
		return "", fmt.Errorf("manifest: seal: detail is too large (%d bytes)", len(s))
	}
	return s, nil
}

// Unseal decrypts a sealed field with a custodian identity.
func Unseal(sealed string, ids ...age.Identity) (Detail, error) {
	ct, err := base64.StdEncoding.Strict().DecodeString(sealed)
	if err != nil {
		return Detail{}, fmt.Errorf("manifest: unseal: %w", err)
	}
	r, err := age.Decrypt(bytes.NewReader(ct), ids...)
	if err != nil {
		return Detail{}, fmt.Errorf("manifest: unseal: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxSealed))
	if err != nil {
		return Detail{}, fmt.Errorf("manifest: unseal: %w", err)
	}
	var d Detail
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Detail{}, fmt.Errorf("manifest: unseal: sealed detail: %w", err)
	}
	return d, nil
}

func checkSealed(field, s string) error {
	if s == "" || len(s) > maxSealed {
		return schemaErr(field, "missing or too large")
	}
	ct, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return schemaErr(field, "not base64: %v", err)
	}
	if !bytes.HasPrefix(ct, []byte(ageMagic)) {
		return schemaErr(field, "not age ciphertext")
	}
	return nil
}
