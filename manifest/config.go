package manifest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"
)

// Config records the vault's public keys: the age recipients every original
// is encrypted to, the log's verifier key and the custodians' signature
// keys. The first is written at init; every later one is a custodian's
// change. A custodian signs it (see Sign), so that no one who can merely
// write vault.json can point new originals at another key: ingest refuses
// to encrypt when vault.json differs from the latest Config in the log, and
// verify reports the difference.
type Config struct {
	Vault              string    `json:"vault"`               // vault id, UUIDv4
	Recipients         []string  `json:"recipients"`          // age X25519 recipients
	LogVerifier        string    `json:"log_verifier"`        // note verifier key of the log
	CustodianVerifiers []string  `json:"custodian_verifiers"` // base64 ed25519 public keys
	Time               time.Time `json:"time"`
	At                 *Position `json:"at"`        // the log this record extends
	Custodian          string    `json:"custodian"` // base64 ed25519 public key of the signer
	Sig                string    `json:"sig"`       // base64 ed25519 signature, see Sign
}

// Kind returns KindConfig.
func (*Config) Kind() Kind { return KindConfig }

type wireConfig struct {
	header
	*Config
}

func (r *Config) normalize() Record {
	c := *r
	c.Recipients = slices.Clone(r.Recipients)
	c.CustodianVerifiers = slices.Clone(r.CustodianVerifiers)
	c.Time = normTime(c.Time)
	if r.At != nil {
		at := *r.At
		c.At = &at
	}
	return &c
}

func (r *Config) check() error {
	if err := checkUUID("vault", r.Vault); err != nil {
		return err
	}
	if len(r.Recipients) == 0 || len(r.Recipients) > 64 {
		return schemaErr("recipients", "%d recipients, want 1 to 64", len(r.Recipients))
	}
	for _, s := range r.Recipients {
		if x, err := age.ParseX25519Recipient(s); err != nil || x.String() != s {
			return schemaErr("recipients", "%q is not an age X25519 recipient", s)
		}
	}
	if v, err := note.NewVerifier(r.LogVerifier); err != nil || v.Name() != "veil/"+r.Vault {
		return schemaErr("log_verifier", "%q is not the note verifier key of veil/%s", r.LogVerifier, r.Vault)
	}
	if len(r.CustodianVerifiers) == 0 || len(r.CustodianVerifiers) > 64 {
		return schemaErr("custodian_verifiers", "%d keys, want 1 to 64", len(r.CustodianVerifiers))
	}
	for _, s := range r.CustodianVerifiers {
		if !isEd25519Public(s) {
			return schemaErr("custodian_verifiers", "%q is not a base64 ed25519 public key", s)
		}
	}
	if err := checkTime("time", r.Time); err != nil {
		return err
	}
	if err := r.At.check(); err != nil {
		return err
	}
	return checkSigner(r.Custodian, r.Sig)
}

// Differences lists, in words, how the given public keys (vault.json's, or
// an auditor's pinned ones) differ from the record: a recipient added or
// missing, another log key, a custodian key added or missing. None means
// they are the same keys.
func (r *Config) Differences(vaultID string, recipients []string, logVerifier string, custodians []string) []string {
	var d []string
	if vaultID != r.Vault {
		d = append(d, fmt.Sprintf("vault id %s, the log's config says %s", vaultID, r.Vault))
	}
	d = append(d, setDiff("recipient", recipients, r.Recipients)...)
	if logVerifier != r.LogVerifier {
		d = append(d, fmt.Sprintf("log verifier key %s, the log's config says %s", shorten(logVerifier), shorten(r.LogVerifier)))
	}
	return append(d, setDiff("custodian key", custodians, r.CustodianVerifiers)...)
}

func setDiff(what string, have, logged []string) []string {
	var d []string
	for _, s := range have {
		if !slices.Contains(logged, s) {
			d = append(d, fmt.Sprintf("%s %s is not in the log's config", what, shorten(s)))
		}
	}
	for _, s := range logged {
		if !slices.Contains(have, s) {
			d = append(d, fmt.Sprintf("%s %s of the log's config is missing", what, shorten(s)))
		}
	}
	return d
}

// shorten keeps enough of a key to tell it from another in a message.
func shorten(s string) string {
	if len(s) > 24 {
		return s[:20] + "…"
	}
	return s
}

// configPrefix starts every canonical config line.
var configPrefix = []byte(fmt.Sprintf(`{"v":%d,"type":%q,`, Version, KindConfig))

// LatestConfig returns the last Config record of the log in dir, or nil if
// the log holds none (a vault made before config records existed). It
// searches the records file backwards from the end, so its cost is that of
// the records after the latest config, not of the whole log. The caller
// holds the log open: Open has checked that every record is one this host
// wrote, and LatestConfig checks the record's form.
func LatestConfig(dir string) (*Config, error) {
	f, err := openLogFile(filepath.Join(dir, RecordsFile))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	off, err := lastLineStart(f, fi.Size(), configPrefix)
	if err != nil || off < 0 {
		return nil, err
	}
	line, status, err := newLineReader(io.NewSectionReader(f, off, fi.Size()-off)).next()
	if err != nil || status != lineOK {
		return nil, nil // a torn last line is not a record
	}
	r, err := Parse(line)
	if err != nil {
		return nil, fmt.Errorf("manifest: config record at byte %d: %w", off, err)
	}
	return r.(*Config), nil
}

// lastLineStart returns the offset of the last line of f (size bytes) that
// starts with prefix, or -1, reading backwards a chunk at a time.
func lastLineStart(f io.ReaderAt, size int64, prefix []byte) (int64, error) {
	const chunk = 1 << 20
	pat := append([]byte{'\n'}, prefix...)
	buf := make([]byte, chunk+len(pat))
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		n := min(end+int64(len(pat))-1, size) - start
		b := buf[:n]
		if _, err := f.ReadAt(b, start); err != nil && err != io.EOF {
			return -1, fmt.Errorf("manifest: %w", err)
		}
		if i := bytes.LastIndex(b, pat); i >= 0 {
			return start + int64(i) + 1, nil
		}
		if start == 0 && bytes.HasPrefix(b, prefix) {
			return 0, nil
		}
		end = start
	}
	return -1, nil
}

func isEd25519Public(s string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}
