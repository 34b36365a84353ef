package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/vault"
	"golang.org/x/sys/unix"
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
		got, err := readPassphrase(name, true, "passphrase")
		if err != nil || string(got) != tt.want {
			t.Errorf("file %q: %q, %v; want %q", tt.content, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "\n", strings.Repeat("x", 5000)} {
		name := filepath.Join(dir, "p")
		os.WriteFile(name, []byte(bad), 0o600)
		if _, err := readPassphrase(name, false, "passphrase"); err == nil {
			t.Errorf("file of %d bytes accepted", len(bad))
		}
	}
}

// openPTY returns the two ends of a new pseudo-terminal, so that the
// interactive path runs against a real terminal as a user would meet it.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open tty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	// Drain what the terminal echoes back, so the master never fills up.
	go io.Copy(io.Discard, master)
	return master, tty
}

func TestPromptPassphrase(t *testing.T) {
	master, tty := openPTY(t)
	var prompts bytes.Buffer
	io.WriteString(master, "correct horse\ncorrect horse\n")
	got, err := promptPassphrase(int(tty.Fd()), &prompts, true, "passphrase for the custodian file")
	if err != nil || string(got) != "correct horse" {
		t.Fatalf("got %q, %v", got, err)
	}
	if p := prompts.String(); !strings.Contains(p, "passphrase for the custodian file: ") || !strings.Contains(p, "confirm passphrase for the custodian file: ") {
		t.Errorf("prompts %q", p)
	}

	io.WriteString(master, "correct horse\ncorrect hose\n")
	if _, err := promptPassphrase(int(tty.Fd()), io.Discard, true, "passphrase"); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Errorf("mismatch: %v", err)
	}
	io.WriteString(master, "\n")
	if _, err := promptPassphrase(int(tty.Fd()), io.Discard, true, "passphrase"); err == nil || !strings.Contains(err.Error(), "empty passphrase") {
		t.Errorf("empty: %v", err)
	}
	io.WriteString(master, "only once\n")
	if got, err := promptPassphrase(int(tty.Fd()), io.Discard, false, "passphrase"); err != nil || string(got) != "only once" {
		t.Errorf("without confirm: %q, %v", got, err)
	}
}

// TestInitInteractive runs 'veil init' as a new user would: no passphrase
// file, the passphrase typed twice on a terminal, then the custodian file
// opens with that passphrase and no other.
func TestInitInteractive(t *testing.T) {
	master, tty := openPTY(t)
	saved := os.Stdin
	os.Stdin = tty
	defer func() { os.Stdin = saved }()
	tmp := t.TempDir()
	io.WriteString(master, "typed at the terminal\ntyped at the terminal\n")
	out, code, err := runVeil(t, "init", "--vault", filepath.Join(tmp, "vault"), "--custodian-out", filepath.Join(tmp, "custodian.age"))
	if code != exitOK {
		t.Fatalf("veil init: exit %d: %v", code, err)
	}
	if !strings.Contains(out, "created vault") || !strings.Contains(out, "next:") {
		t.Errorf("output:\n%s", out)
	}
	c, err := vault.LoadCustodian(filepath.Join(tmp, "custodian.age"), []byte("typed at the terminal"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(tmp, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	if c.VaultID != v.Config().ID {
		t.Errorf("custodian for vault %s, vault is %s", c.VaultID, v.Config().ID)
	}
}
