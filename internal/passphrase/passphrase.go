// Package passphrase reads a custodian's passphrase from where a script or
// a service keeps it, a file or the output of a command (a password
// manager), or from what a person types on the terminal. Which source, and
// the words of the prompt, are the command line's choice.
package passphrase

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
)

// MaxLen bounds a passphrase and what is read from a file or a command: a
// passphrase is a line, so more is a mistake (say, the custodian file
// itself).
const MaxLen = 4096

// ReadFile returns the passphrase in the file at path, with one trailing
// newline (LF or CRLF) removed. An empty or oversized file is an error.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxLen+1))
	if err != nil {
		return nil, fmt.Errorf("passphrase file %s: %w", path, err)
	}
	if len(b) > MaxLen {
		return nil, fmt.Errorf("passphrase file %s is too large to hold a passphrase", path)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return b, nil
}

// FromCommand runs command through the shell (sh -c; cmd /C on Windows),
// as restic runs --password-command, and returns the first line of its
// output. The command reads stdin and writes its messages to stderr, so
// that a password manager can ask its own questions.
func FromCommand(command string, stdin io.Reader, stderr io.Writer) ([]byte, error) {
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.Command("cmd", "/C", command)
	} else {
		cmd = exec.Command("sh", "-c", command)
	}
	cmd.Stdin, cmd.Stderr = stdin, stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("--passphrase-command %q failed: %w", command, err)
	}
	if len(out) > MaxLen {
		return nil, fmt.Errorf("--passphrase-command %q printed more than a passphrase (%d bytes)", command, len(out))
	}
	line, _, _ := bufio.NewReader(bytes.NewReader(out)).ReadLine()
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) == 0 {
		return nil, fmt.Errorf("--passphrase-command %q printed no passphrase on its first line", command)
	}
	return bytes.Clone(line), nil
}
