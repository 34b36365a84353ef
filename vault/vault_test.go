package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/note"
)

var testPassphrase = []byte("correct horse battery staple")

// newTestVault creates a vault in a temp dir and returns it with the
// custodian loaded from the custodian file Init wrote.
func newTestVault(t testing.TB, extra ...string) (*Vault, *Custodian) {
	t.Helper()
	tmp := t.TempDir()
	v, err := Init(filepath.Join(tmp, "vault"), filepath.Join(tmp, "custodian.age"), InitOptions{Passphrase: testPassphrase, ExtraRecipients: extra})
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCustodian(filepath.Join(tmp, "custodian.age"), testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	return v, c
}

func TestInitLayout(t *testing.T) {
	tmp := t.TempDir()
	dir, out := filepath.Join(tmp, "vault"), filepath.Join(tmp, "custodian.age")
	v, err := Init(dir, out, InitOptions{Passphrase: testPassphrase})
	if err != nil {
		t.Fatal(err)
	}
	for name, perm := range map[string]fs.FileMode{
		"vault.json":     0o644,
		"auditor.pub":    0o644,
		"lock":           0o644,
		"keys/log.key":   0o600,
		"keys/index.key": 0o600,
		"keys":           0o700 | fs.ModeDir,
		"blobs":          0o750 | fs.ModeDir,
		"log":            0o750 | fs.ModeDir,
		"index":          0o700 | fs.ModeDir,
	} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		// Windows has no POSIX permissions: the vault's folder ACL
		// protects it there (docs/windows.md).
		if info.Mode() != perm && runtime.GOOS != "windows" {
			t.Errorf("%s: mode %v, want %v", name, info.Mode(), perm)
		}
	}
	if info, err := os.Stat(out); err != nil || info.Mode() != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("custodian file: %v, %v; want mode 0600", info, err)
	}
	if v.LogDir() != filepath.Join(dir, "log") || v.IndexDir() != filepath.Join(dir, "index") || v.Dir() != dir {
		t.Errorf("dirs: %s %s %s", v.Dir(), v.LogDir(), v.IndexDir())
	}
	cfg := v.Config()
	if cfg.Version != FormatVersion || !code.Valid(cfg.ID) || len(cfg.Recipients) != 1 || len(cfg.CustodianVerifiers) != 1 {
		t.Errorf("config: %+v", cfg)
	}
	if v.Origin() != "veil/"+cfg.ID {
		t.Errorf("origin %q", v.Origin())
	}
	// The custodian file is an armored age file any age tool recognises.
	b, _ := os.ReadFile(out)
	if !bytes.HasPrefix(b, []byte(armor.Header)) {
		t.Errorf("custodian file does not start with the age armor header: %q", b[:40])
	}
	// Nothing secret in the public files.
	for _, name := range []string{"vault.json", "auditor.pub"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, []byte("AGE-SECRET-KEY")) || bytes.Contains(b, []byte("PRIVATE")) {
			t.Errorf("%s holds a secret key", name)
		}
	}
}

func TestInitRefuses(t *testing.T) {
	tmp := t.TempDir()
	nonEmpty := filepath.Join(tmp, "nonempty")
	os.Mkdir(nonEmpty, 0o755)
	os.WriteFile(filepath.Join(nonEmpty, "photo.jpg"), []byte("x"), 0o644)
	existing := filepath.Join(tmp, "existing.age")
	os.WriteFile(existing, []byte("precious"), 0o600)

	tests := []struct {
		name, dir, out string
		opts           InitOptions
		want           string
	}{
		{"non-empty dir", nonEmpty, filepath.Join(tmp, "c1.age"), InitOptions{Passphrase: testPassphrase}, "is not empty"},
		{"existing custodian file", filepath.Join(tmp, "v2"), existing, InitOptions{Passphrase: testPassphrase}, "already exists"},
		{"custodian file inside vault", filepath.Join(tmp, "v3"), filepath.Join(tmp, "v3", "c.age"), InitOptions{Passphrase: testPassphrase}, "inside the vault"},
		{"empty passphrase", filepath.Join(tmp, "v4"), filepath.Join(tmp, "c4.age"), InitOptions{}, "empty passphrase"},
		{"bad extra recipient", filepath.Join(tmp, "v5"), filepath.Join(tmp, "c5.age"), InitOptions{Passphrase: testPassphrase, ExtraRecipients: []string{"age1notakey"}}, "not an age X25519 public key"},
		{"post-quantum recipient", filepath.Join(tmp, "v6"), filepath.Join(tmp, "c6.age"), InitOptions{Passphrase: testPassphrase, ExtraRecipients: []string{pqRecipient(t)}}, "not an age X25519 public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Init(tt.dir, tt.out, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Init: %v, want error containing %q", err, tt.want)
			}
			// Nothing is left behind, nothing existing is touched.
			if tt.dir != nonEmpty {
				if _, err := os.Stat(tt.dir); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("failed Init left %s behind", tt.dir)
				}
			}
			if tt.out != existing {
				if _, err := os.Stat(tt.out); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("failed Init left %s behind", tt.out)
				}
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "precious" {
		t.Error("Init overwrote an existing custodian file")
	}
	if entries, _ := os.ReadDir(nonEmpty); len(entries) != 1 {
		t.Error("Init changed a non-empty directory")
	}
}

func pqRecipient(t *testing.T) string {
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

func TestInitEmptyExistingDir(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "empty")
	os.Mkdir(dir, 0o700)
	if _, err := Init(dir, filepath.Join(tmp, "c.age"), InitOptions{Passphrase: testPassphrase}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
}

func TestKeys(t *testing.T) {
	v, c := newTestVault(t)
	signer, err := v.LogSigner()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := v.LogVerifier()
	if err != nil {
		t.Fatal(err)
	}
	if signer.Name() != v.Origin() || verifier.Name() != v.Origin() {
		t.Errorf("signer %q verifier %q, want %q", signer.Name(), verifier.Name(), v.Origin())
	}
	msg, err := note.Sign(&note.Note{Text: v.Origin() + "\n1\nroot\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(verifier)); err != nil {
		t.Errorf("checkpoint signed with the log signer does not verify: %v", err)
	}

	key, err := v.IndexKey()
	if err != nil || len(key) != 32 || bytes.Equal(key, make([]byte, 32)) {
		t.Errorf("index key %x, %v", key, err)
	}
	v2, _ := newTestVault(t)
	if key2, _ := v2.IndexKey(); bytes.Equal(key, key2) {
		t.Error("two vaults have the same index key")
	}

	verifiers, err := v.CustodianVerifiers()
	if err != nil || len(verifiers) != 1 {
		t.Fatalf("custodian verifiers %v, %v", verifiers, err)
	}
	sig := ed25519.Sign(c.SigningKey, []byte("access record"))
	if !ed25519.Verify(verifiers[0], []byte("access record"), sig) || !verifiers[0].Equal(c.Verifier()) {
		t.Error("custodian signature does not verify with the vault's custodian verifier")
	}
	if c.VaultID != v.Config().ID {
		t.Errorf("custodian is for vault %s, want %s", c.VaultID, v.Config().ID)
	}
	rs, err := v.Recipients()
	if err != nil || len(rs) != 1 {
		t.Errorf("recipients %v, %v", rs, err)
	}
}

func TestKeyFileDamage(t *testing.T) {
	v, _ := newTestVault(t)
	other, _ := newTestVault(t)
	otherKey, _ := os.ReadFile(other.keyPath(logKeyFile))
	os.WriteFile(v.keyPath(logKeyFile), otherKey, 0o600)
	if _, err := v.LogSigner(); err == nil || !strings.Contains(err.Error(), "not this vault") {
		t.Errorf("LogSigner with another vault's key: %v", err)
	}
	os.WriteFile(v.keyPath(indexKeyFile), []byte("abcd\n"), 0o600)
	if _, err := v.IndexKey(); err == nil || !strings.Contains(err.Error(), "malformed index key") {
		t.Errorf("IndexKey of a short key: %v", err)
	}
	os.Remove(v.keyPath(indexKeyFile))
	if _, err := v.IndexKey(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("IndexKey without a key file: %v", err)
	}
}

func TestOpenConfigStrict(t *testing.T) {
	v, _ := newTestVault(t)
	good, err := os.ReadFile(filepath.Join(v.Dir(), configFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(good, &m)
	edit := func(f func(m map[string]any)) []byte {
		c := map[string]any{}
		for k, val := range m {
			c[k] = val
		}
		f(c)
		b, _ := json.Marshal(c)
		return b
	}
	other, _ := newTestVault(t)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown field", edit(func(m map[string]any) { m["recipient_backup"] = "x" }), "unknown field"},
		{"newer version", edit(func(m map[string]any) { m["version"] = 2 }), "unsupported format version 2"},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), `missing "version"`},
		{"trailing data", append(append([]byte{}, good...), "{}"...), "not valid JSON"},
		{"not json", []byte("version: 1"), "not valid JSON"},
		{"bad id", edit(func(m map[string]any) { m["id"] = "0000" }), "not a UUIDv4"},
		{"no recipients", edit(func(m map[string]any) { m["recipients"] = []string{} }), "no recipients"},
		{"bad recipient", edit(func(m map[string]any) { m["recipients"] = []string{"age1xyz"} }), "not an age X25519 public key"},
		{"other vault's log key", edit(func(m map[string]any) { m["log_verifier"] = other.Config().LogVerifier }), "log verifier key is named"},
		{"bad custodian key", edit(func(m map[string]any) { m["custodian_verifiers"] = []string{"AAAA"} }), "not a base64 ed25519 public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(v.Dir(), configFile), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(v.Dir())
			var ce *ConfigError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &ce) {
				t.Fatalf("Open: %v, want a ConfigError containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "vault.json") {
				t.Errorf("error does not name vault.json: %v", err)
			}
		})
	}
	os.WriteFile(filepath.Join(v.Dir(), configFile), good, 0o644)
	if _, err := Open(v.Dir()); err != nil {
		t.Fatalf("Open after restoring vault.json: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a vault") {
		t.Errorf("Open of an empty dir: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing dir: %v", err)
	}
	m["version"] = 2
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(v.Dir(), configFile), b, 0o644)
	if _, err := Open(v.Dir()); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("Open of version 2: %v, want ErrUnsupportedVersion", err)
	}
}

func TestAuditorPub(t *testing.T) {
	extra, _ := age.GenerateX25519Identity()
	v, _ := newTestVault(t, extra.Recipient().String())
	b, err := os.ReadFile(filepath.Join(v.Dir(), auditorFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseAuditorPub(b)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Equal(v.PublicKeys()) || len(p.Recipients) != 2 || p.Recipients[1] != extra.Recipient().String() {
		t.Errorf("auditor.pub parses to %+v, want %+v", p, v.PublicKeys())
	}
	if !bytes.Equal(b, v.PublicKeys().MarshalAuditorPub()) {
		t.Error("auditor.pub differs from MarshalAuditorPub")
	}

	s := string(b)
	lines := strings.SplitAfter(s, "\n")
	other, _ := newTestVault(t)
	otherLog := "log-verifier " + other.Config().LogVerifier + "\n"
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "empty file"},
		{"no final newline", strings.TrimSuffix(s, "\n"), "newline"},
		{"crlf", strings.ReplaceAll(s, "\n", "\r\n"), "carriage returns"},
		{"newer version", strings.Replace(s, "v1", "v2", 1), "unsupported format version"},
		{"other file", "hello\n", "not a veil auditor key file"},
		{"blank line", lines[0] + "\n" + strings.Join(lines[1:], ""), "line 2"},
		{"comment", lines[0] + "# pinned 2024\n" + strings.Join(lines[1:], ""), "line 2"},
		{"double space", strings.Replace(s, "vault ", "vault  ", 1), "malformed"},
		{"trailing space", strings.Replace(s, "\nrecipient", " \nrecipient", 1), "malformed"},
		{"reordered", lines[0] + lines[2] + lines[1] + strings.Join(lines[3:], ""), `want "vault"`},
		{"two vault lines", lines[0] + lines[1] + lines[1] + strings.Join(lines[2:], ""), "given twice"},
		{"missing custodian", strings.Join(lines[:len(lines)-2], ""), `missing "custodian-verifier"`},
		{"unknown key", s + "backup-key x\n", "unexpected line"},
		{"other vault's log key", strings.Replace(s, "log-verifier "+v.Config().LogVerifier+"\n", otherLog, 1), "log verifier key is named"},
		{"bad recipient", strings.Replace(s, extra.Recipient().String(), "age1qqqq", 1), "not an age X25519 public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAuditorPub([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseAuditorPub: %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestCustodianPassphrase(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "custodian.age")
	v, err := Init(filepath.Join(tmp, "v"), out, InitOptions{Passphrase: testPassphrase})
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range [][]byte{[]byte("correct horse battery stapl"), []byte("Correct horse battery staple"), []byte("x")} {
		if _, err := LoadCustodian(out, wrong); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("LoadCustodian(%q): %v, want ErrWrongPassphrase", wrong, err)
		}
	}
	if _, err := LoadCustodian(out, nil); err == nil {
		t.Error("LoadCustodian with an empty passphrase succeeded")
	}
	c, err := LoadCustodian(out, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity.Recipient().String() != v.Config().Recipients[0] {
		t.Error("custodian identity does not match the vault's first recipient")
	}

	// Damage is not mistaken for a wrong passphrase.
	b, _ := os.ReadFile(out)
	damaged := filepath.Join(tmp, "damaged.age")
	os.WriteFile(damaged, b[:len(b)/2], 0o600)
	if _, err := LoadCustodian(damaged, testPassphrase); err == nil || errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("LoadCustodian of a truncated file: %v", err)
	}
	// A blob (X25519, not passphrase-encrypted) is not a custodian file.
	ref, err := v.Put(t.Context(), strings.NewReader("photo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCustodian(v.BlobPath(ref.Hash), testPassphrase); err == nil || errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "not passphrase-protected") {
		t.Errorf("LoadCustodian of a blob: %v", err)
	}
	if _, err := LoadCustodian(filepath.Join(tmp, "missing.age"), testPassphrase); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCustodian of a missing file: %v", err)
	}
}

// TestCustodianWorkFactor checks the real cost of a custodian file: scrypt
// at age's default work factor, which the other tests lower for speed.
func TestCustodianWorkFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("scrypt at full cost takes seconds")
	}
	saved := scryptLogN
	scryptLogN = 18
	defer func() { scryptLogN = saved }()
	tmp := t.TempDir()
	out := filepath.Join(tmp, "custodian.age")
	if _, err := Init(filepath.Join(tmp, "v"), out, InitOptions{Passphrase: testPassphrase}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	hdr, err := age.ExtractHeader(armor.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(hdr, []byte("-> scrypt ")) || !bytes.Contains(hdr, []byte(" 18\n")) {
		t.Errorf("custodian header does not use scrypt with work factor 18:\n%s", hdr)
	}
	if _, err := LoadCustodian(out, []byte("wrong passphrase")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
}

func TestParseCustodianStrict(t *testing.T) {
	c, err := newCustodian("6f1c2a9e-3b4d-4c5e-9f60-718293a4b5c6")
	if err != nil {
		t.Fatal(err)
	}
	good := string(c.marshal())
	back, err := parseCustodian([]byte(good))
	if err != nil || !back.SigningKey.Equal(c.SigningKey) || back.Identity.String() != c.Identity.String() || back.VaultID != c.VaultID {
		t.Fatalf("round trip: %v", err)
	}
	for name, bad := range map[string]string{
		"newer":         strings.Replace(good, "v1", "v2", 1),
		"no newline":    strings.TrimSuffix(good, "\n"),
		"extra line":    good + "note x\n",
		"short seed":    strings.Replace(good, "ed25519-seed ", "ed25519-seed AAAA", 1),
		"bad identity":  strings.Replace(good, "AGE-SECRET-KEY-1", "AGE-SECRET-KEY-2", 1),
		"not a uuid v4": strings.Replace(good, "-4c5e-", "-1c5e-", 1),
	} {
		if _, err := parseCustodian([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
