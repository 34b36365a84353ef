package vault

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/note"
)

// Names inside a vault directory.
const (
	configFile   = "vault.json"
	auditorFile  = "auditor.pub"
	keysDir      = "keys"
	logKeyFile   = "log.key"
	indexKeyFile = "index.key"
	blobsDir     = "blobs"
	logDir       = "log"
	indexDir     = "index"
	lockFile     = "lock"
)

// indexKeySize is the size of the HMAC key for the subject and duplicate indexes.
const indexKeySize = 32

// Vault is an opened vault directory. Its methods are safe for concurrent use.
type Vault struct {
	dir        string
	cfg        Config
	recipients []age.Recipient
	cleaned    []string
	noSync     bool // benchmarks only: measure Put without fsync
}

// InitOptions are the choices made when a vault is created.
type InitOptions struct {
	// Passphrase protects the custodian file; it must not be empty.
	Passphrase []byte
	// ExtraRecipients are further age X25519 public keys (age1...) that can
	// decrypt blobs: a second custodian or an offline backup key.
	ExtraRecipients []string
	// StartLog, if set, is called once the keys and the custodian file
	// exist and before vault.json is written (a folder without vault.json
	// is not a vault, so a crash before it leaves nothing Open accepts), to
	// begin the log with the vault's keys signed by the new custodian.
	StartLog func(v *Vault, c *Custodian) error
}

// Init creates a vault in dir, which must not exist or be empty, and writes
// the custodian file to custodianOut (mode 0600), which must not exist and
// must not be inside dir. On failure it removes what it created. Most
// callers want custody.Init, which also starts the log with the vault's
// keys signed by the custodian (InitOptions.StartLog): ingest refuses a
// vault whose log does not say which keys a custodian committed.
func Init(dir, custodianOut string, opts InitOptions) (v *Vault, err error) {
	if len(opts.Passphrase) == 0 {
		return nil, errors.New("vault: empty passphrase")
	}
	if err := CheckInit(dir, custodianOut); err != nil {
		return nil, err
	}
	created, err := prepareDir(dir)
	if err != nil {
		return nil, err
	}
	wroteCustodian := false
	defer func() {
		if err == nil {
			return
		}
		if wroteCustodian {
			os.Remove(custodianOut)
		}
		removeContents(dir)
		if created {
			os.Remove(dir)
		}
	}()

	vaultCode, err := code.New()
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	id := vaultCode.String()
	cust, err := newCustodian(id)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	recipients := []string{cust.Identity.Recipient().String()}
	for _, r := range opts.ExtraRecipients {
		rec, err := parseRecipient(r)
		if err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
		if s := rec.String(); !contains(recipients, s) {
			recipients = append(recipients, s)
		}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin(id))
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	indexKey := make([]byte, indexKeySize)
	if _, err := rand.Read(indexKey); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	cfg := Config{
		Version:            FormatVersion,
		ID:                 id,
		Recipients:         recipients,
		LogVerifier:        vkey,
		CustodianVerifiers: []string{base64.StdEncoding.EncodeToString(cust.Verifier())},
	}
	if err := cfg.publicKeys().validate(); err != nil {
		return nil, fmt.Errorf("vault: internal error: %w", err)
	}

	for _, d := range []string{keysDir, blobsDir, logDir, indexDir} {
		// Auditors (the vault's group) read vault.json, auditor.pub, log/
		// and blobs/; keys/ holds this host's secrets and index/ the keyed
		// lookup that verify never reads, so those two are veil's alone.
		perm := fs.FileMode(0o750)
		if d == keysDir || d == indexDir {
			perm = 0o700
		}
		if err := os.Mkdir(filepath.Join(dir, d), perm); err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
	}
	files := []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{filepath.Join(keysDir, logKeyFile), []byte(skey + "\n"), 0o600},
		{filepath.Join(keysDir, indexKeyFile), []byte(hex.EncodeToString(indexKey) + "\n"), 0o600},
		{auditorFile, cfg.publicKeys().MarshalAuditorPub(), 0o644},
		{lockFile, nil, 0o644},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.data, f.perm, false); err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
	}

	sealed, err := encryptCustodian(cust, opts.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("vault: custodian file: %w", err)
	}
	// Read the file back before anything depends on it: a custodian file that
	// does not decrypt would make every original unrecoverable.
	if back, err := decryptCustodian(sealed, opts.Passphrase); err != nil || !back.SigningKey.Equal(cust.SigningKey) || back.Identity.String() != cust.Identity.String() {
		return nil, fmt.Errorf("vault: internal error: custodian file does not read back: %v", err)
	}
	if err := writeFile(custodianOut, sealed, 0o600, false); err != nil {
		return nil, fmt.Errorf("vault: custodian file: %w", err)
	}
	wroteCustodian = true
	if opts.StartLog != nil {
		rs, err := parseRecipients(cfg.Recipients)
		if err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
		if err := opts.StartLog(&Vault{dir: dir, cfg: cfg, recipients: rs}, cust); err != nil {
			return nil, fmt.Errorf("vault: starting the log: %w", err)
		}
	}
	// vault.json last: a directory without it is not a vault, so a crash
	// before this point leaves nothing that Open would accept.
	if err := writeFile(filepath.Join(dir, configFile), cfg.marshal(), 0o644, false); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return Open(dir)
}

// CheckInit reports why Init(dir, custodianOut, ...) would be refused before
// any work is done, so that a command can fail before asking for a
// passphrase: dir must be new or empty, custodianOut must not exist and must
// not be inside dir.
func CheckInit(dir, custodianOut string) error {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	absOut, err := filepath.Abs(custodianOut)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if rel, err := filepath.Rel(absDir, absOut); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("vault: custodian file %s is inside the vault %s; write it elsewhere and move it off this host", custodianOut, dir)
	}
	if _, err := os.Lstat(custodianOut); err == nil {
		return fmt.Errorf("vault: custodian file %s already exists; choose another name (it is never overwritten)", custodianOut)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: custodian file: %w", err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("vault: %s is not empty; give a new or empty directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("vault: %w", err)
	}
	return nil
}

// prepareDir makes dir exist and be empty; created reports whether it made it.
func prepareDir(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Mkdir(dir, 0o750); err != nil {
			return false, fmt.Errorf("vault: %w", err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("vault: %w", err)
	case len(entries) > 0:
		return false, fmt.Errorf("vault: %s is not empty; give a new or empty directory", dir)
	}
	return false, nil
}

// removeContents undoes a failed Init; dir was empty when Init started.
func removeContents(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// writeFile writes name atomically and durably; it refuses to replace an
// existing file unless replace is set.
func writeFile(name string, data []byte, perm fs.FileMode, replace bool) error {
	f, err := atomicfile.Create(name, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit(!replace)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Open opens the vault in dir. It validates vault.json strictly and removes
// temporary blob files left by writers that crashed (see CleanedTemps).
func Open(dir string) (*Vault, error) {
	v, err := OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	v.cleaned = cleanTemps(filepath.Join(dir, blobsDir))
	return v, nil
}

// OpenReadOnly is Open for an auditor: it validates vault.json but changes
// nothing, not even a crashed writer's temporary files, so that an audit
// leaves no trace and works on a read-only copy.
func OpenReadOnly(dir string) (*Vault, error) {
	name := filepath.Join(dir, configFile)
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return nil, &NotVaultError{Dir: dir, Err: serr}
		}
		return nil, &NotVaultError{Dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	cfg, err := parseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", &ConfigError{Path: name, Err: err})
	}
	rs, err := parseRecipients(cfg.Recipients)
	if err != nil { // validated above
		return nil, fmt.Errorf("vault: %w", err)
	}
	return &Vault{dir: dir, cfg: cfg, recipients: rs}, nil
}

func parseRecipients(list []string) ([]age.Recipient, error) {
	var rs []age.Recipient
	for _, s := range list {
		r, err := parseRecipient(s)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// SetKeys replaces the age recipients and the custodian verifier keys in
// vault.json and auditor.pub, atomically each. It is the last step of a
// custodian's change of keys, after the change is committed in the log:
// ingest compares vault.json with the log and refuses to encrypt while they
// differ.
func (v *Vault) SetKeys(recipients, custodians []string) error {
	cfg := v.cfg
	cfg.Recipients = append([]string(nil), recipients...)
	cfg.CustodianVerifiers = append([]string(nil), custodians...)
	if err := cfg.publicKeys().validate(); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	rs, err := parseRecipients(cfg.Recipients)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if err := writeFile(filepath.Join(v.dir, auditorFile), cfg.publicKeys().MarshalAuditorPub(), 0o644, true); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if err := writeFile(filepath.Join(v.dir, configFile), cfg.marshal(), 0o644, true); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	v.cfg, v.recipients = cfg, rs
	return nil
}

// ErrNotVault is matched (errors.Is) by the error of Open and OpenReadOnly
// when there is no vault at the given folder: it does not exist, or holds no
// vault.json.
var ErrNotVault = errors.New("not a vault")

// NotVaultError says that Dir holds no vault; Err is why the folder itself
// could not be read, or nil when it exists without a vault.json.
type NotVaultError struct {
	Dir string
	Err error
}

func (e *NotVaultError) Error() string {
	if e.Err != nil {
		return "vault: " + e.Err.Error()
	}
	return fmt.Sprintf("vault: %s is not a vault (no %s); create one with 'veil init'", e.Dir, configFile)
}

// Unwrap returns why the folder could not be read.
func (e *NotVaultError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotVault) true.
func (e *NotVaultError) Is(target error) bool { return target == ErrNotVault }

// Dir returns the vault directory.
func (v *Vault) Dir() string { return v.dir }

// Config returns a copy of the vault's public configuration.
func (v *Vault) Config() Config {
	c := v.cfg
	c.Recipients = append([]string(nil), c.Recipients...)
	c.CustodianVerifiers = append([]string(nil), c.CustodianVerifiers...)
	return c
}

// Origin returns the origin line of the vault's log checkpoints, "veil/<id>".
func (v *Vault) Origin() string { return origin(v.cfg.ID) }

// LogDir returns the directory of the manifest.
func (v *Vault) LogDir() string { return filepath.Join(v.dir, logDir) }

// IndexDir returns the directory of the HMAC-keyed indexes.
func (v *Vault) IndexDir() string { return filepath.Join(v.dir, indexDir) }

// CleanedTemps returns the temporary files Open removed, for the caller to report.
func (v *Vault) CleanedTemps() []string { return append([]string(nil), v.cleaned...) }

// Recipients returns the age recipients every blob is encrypted to.
func (v *Vault) Recipients() ([]age.Recipient, error) {
	return append([]age.Recipient(nil), v.recipients...), nil
}

// LogSigner returns the signer of log checkpoints, read from keys/log.key.
func (v *Vault) LogSigner() (note.Signer, error) {
	b, err := v.readKey(logKeyFile)
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(strings.TrimSuffix(string(b), "\n"))
	if err != nil {
		return nil, fmt.Errorf("vault: %s: malformed signer key", v.keyPath(logKeyFile))
	}
	if s.Name() != v.Origin() {
		return nil, fmt.Errorf("vault: %s: signer key is for %q, not this vault (%q)", v.keyPath(logKeyFile), s.Name(), v.Origin())
	}
	lv, _ := v.LogVerifier()
	if lv == nil || s.KeyHash() != lv.KeyHash() {
		return nil, fmt.Errorf("vault: %s: signer key does not match the log verifier in %s", v.keyPath(logKeyFile), configFile)
	}
	return s, nil
}

// LogVerifier returns the verifier of log checkpoints from vault.json.
func (v *Vault) LogVerifier() (note.Verifier, error) {
	vs, err := v.PublicKeys().Verifiers()
	if err != nil {
		return nil, err
	}
	return vs.Log, nil
}

// IndexKey returns the 32-byte key of the HMAC-keyed indexes.
func (v *Vault) IndexKey() ([]byte, error) {
	b, err := v.readKey(indexKeyFile)
	if err != nil {
		return nil, err
	}
	s, ok := bytes.CutSuffix(b, []byte("\n"))
	key := make([]byte, indexKeySize)
	if !ok || len(s) != hex.EncodedLen(indexKeySize) {
		return nil, fmt.Errorf("vault: %s: malformed index key", v.keyPath(indexKeyFile))
	}
	if _, err := hex.Decode(key, s); err != nil {
		return nil, fmt.Errorf("vault: %s: malformed index key", v.keyPath(indexKeyFile))
	}
	return key, nil
}

// CustodianVerifiers returns the public keys that check access-record signatures.
func (v *Vault) CustodianVerifiers() ([]ed25519.PublicKey, error) {
	vs, err := v.PublicKeys().Verifiers()
	if err != nil {
		return nil, err
	}
	return vs.Custodians, nil
}

func (v *Vault) keyPath(name string) string { return filepath.Join(v.dir, keysDir, name) }

// readKey reads a small secret from keys/. Keys are a few dozen bytes, so a
// large file is not a key.
func (v *Vault) readKey(name string) ([]byte, error) {
	f, err := os.Open(v.keyPath(name))
	if err != nil {
		return nil, fmt.Errorf("vault: %w (the ingest host's keys live in VAULT/%s)", err, keysDir)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return b, nil
}
