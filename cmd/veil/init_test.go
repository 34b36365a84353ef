package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runVeil runs the veil command tree in process and returns its output and
// the exit code the CLI contract maps the error to.
func runVeil(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), exitCode(err), err
}

func TestInitExitCodes(t *testing.T) {
	tmp := t.TempDir()
	pass := filepath.Join(tmp, "pass")
	os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600)
	os.Mkdir(filepath.Join(tmp, "full"), 0o700)
	os.WriteFile(filepath.Join(tmp, "full", "x"), nil, 0o600)
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"init"}, exitUsage},
		{[]string{"init", "--vault", filepath.Join(tmp, "v")}, exitUsage},
		{[]string{"init", "--vault", filepath.Join(tmp, "v"), "--custodian-out", filepath.Join(tmp, "c"), "--passphrase-file", pass, "--custodian-recipient", "age1x"}, exitUsage},
		{[]string{"init", "--vault", filepath.Join(tmp, "v"), "--custodian-out", filepath.Join(tmp, "c"), "--bogus"}, exitUsage},
		{[]string{"init", "--vault", filepath.Join(tmp, "full"), "--custodian-out", filepath.Join(tmp, "c"), "--passphrase-file", pass}, exitError},
		{[]string{"init", "--vault", filepath.Join(tmp, "v"), "--custodian-out", filepath.Join(tmp, "c"), "--passphrase-file", filepath.Join(tmp, "nope")}, exitError},
	} {
		_, code, err := runVeil(t, tt.args...)
		if code != tt.code {
			t.Errorf("veil %s: exit %d (%v), want %d", strings.Join(tt.args, " "), code, err, tt.code)
		}
	}
}

func TestReadPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ content, want string }{
		{"secret", "secret"},
		{"secret\n", "secret"},
		{"secret\r\n", "secret"},
		{"secret\n\n", "secret\n"}, // only one newline is the file's; the rest is the passphrase
		{" secret \n", " secret "},
	} {
		name := filepath.Join(dir, "p")
		os.WriteFile(name, []byte(tt.content), 0o600)
		got, err := readPassphrase(name, "", true, "passphrase")
		if err != nil || string(got) != tt.want {
			t.Errorf("file %q: %q, %v; want %q", tt.content, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "\n", strings.Repeat("x", 5000)} {
		name := filepath.Join(dir, "p")
		os.WriteFile(name, []byte(bad), 0o600)
		if _, err := readPassphrase(name, "", false, "passphrase"); err == nil {
			t.Errorf("file of %d bytes accepted", len(bad))
		}
	}
}
