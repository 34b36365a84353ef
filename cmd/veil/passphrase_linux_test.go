package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/veil-photo/veil/internal/testpty"
	"github.com/veil-photo/veil/vault"
	"golang.org/x/sys/unix"
)

// veilOnTTY starts the veil binary with tty as its controlling terminal
// and stdin from /dev/null, as under xargs or a script: veil must ask on
// the terminal, not read stdin.
func veilOnTTY(t *testing.T, tty *os.File, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(veilPath(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.ExtraFiles = []*os.File{tty} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

// TestInitInteractive runs 'veil init' as a new user would, as a real
// process: no passphrase file, stdin not a terminal, the passphrase typed
// twice on the controlling terminal; then the custodian file opens with
// that passphrase and no other.
func TestInitInteractive(t *testing.T) {
	master, tty := testpty.Open(t)
	tmp := t.TempDir()
	cmd, out := veilOnTTY(t, tty, "init", "--vault", filepath.Join(tmp, "vault"), "--custodian-out", filepath.Join(tmp, "custodian.age"))
	testpty.Expect(t, master, "passphrase for the custodian file: ")
	io.WriteString(master, "typed at the terminal\r")
	testpty.Expect(t, master, "confirm passphrase for the custodian file: ")
	io.WriteString(master, "typed at the terminal\r")
	testpty.Drain(master)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("veil init: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "created vault") || !strings.Contains(out.String(), "next:") {
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

// TestPromptAbort presses Ctrl-C, then Ctrl-D, at the prompt of a real veil
// process: it ends at once with an error and a non-zero exit, creates
// nothing, and leaves the terminal echoing again.
func TestPromptAbort(t *testing.T) {
	for _, key := range []struct{ name, b string }{{"Ctrl-C", "\x03"}, {"Ctrl-D", "\x04"}} {
		t.Run(key.name, func(t *testing.T) {
			master, tty := testpty.Open(t)
			tmp := t.TempDir()
			cmd, out := veilOnTTY(t, tty, "init", "--vault", filepath.Join(tmp, "vault"), "--custodian-out", filepath.Join(tmp, "custodian.age"))
			testpty.Expect(t, master, "passphrase for the custodian file: ")
			io.WriteString(master, "half typed")
			io.WriteString(master, key.b)
			testpty.Drain(master)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitError {
				t.Fatalf("veil init after %s: %v, want exit %d\n%s", key.name, err, exitError, out)
			}
			if !strings.Contains(out.String(), "veil: no passphrase given: aborted at the prompt") {
				t.Errorf("output:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(tmp, "custodian.age")); err == nil {
				t.Error("custodian file written after an abort")
			}
			if st, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil || st.Lflag&unix.ECHO == 0 {
				t.Errorf("echo not restored after %s: %v", key.name, err)
			}
		})
	}
}

// TestPassphraseCommand: the first line the command prints is the
// passphrase; a failing or silent command is a clear error.
func TestPassphraseCommand(t *testing.T) {
	got, err := readPassphrase("", "printf 'from a manager\\nsecond line\\n'", false, "passphrase")
	if err != nil || string(got) != "from a manager" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := readPassphrase("", "echo nope >&2; exit 3", false, "passphrase"); err == nil || !strings.Contains(err.Error(), `--passphrase-command "echo nope >&2; exit 3" failed: exit status 3`) {
		t.Errorf("failing command: %v", err)
	}
	if _, err := readPassphrase("", "true", false, "passphrase"); err == nil || !strings.Contains(err.Error(), "printed no passphrase") {
		t.Errorf("silent command: %v", err)
	}
	if _, err := readPassphrase("f", "true", false, "passphrase"); exitCode(err) != exitUsage {
		t.Errorf("both sources: %v, exit %d", err, exitCode(err))
	}
	// Through veil init, a real process.
	tmp := t.TempDir()
	out, err := exec.Command(veilPath(t), "init", "--vault", filepath.Join(tmp, "vault"), "--custodian-out", filepath.Join(tmp, "c.age"),
		"--passphrase-command", "echo a passphrase from a command").CombinedOutput()
	if err != nil {
		t.Fatalf("veil init --passphrase-command: %v\n%s", err, out)
	}
	if _, err := vault.LoadCustodian(filepath.Join(tmp, "c.age"), []byte("a passphrase from a command")); err != nil {
		t.Fatal(err)
	}
}
