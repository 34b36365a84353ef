package passphrase

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want, err string
	}{
		{"lf", "correct horse battery staple\n", "correct horse battery staple", ""},
		{"crlf", "with windows\r\n", "with windows", ""},
		{"bare", "no newline", "no newline", ""},
		{"one newline only", "two\n\n", "two\n", ""},
		{"spaces kept", " padded \n", " padded ", ""},
		{"empty", "", "", "is empty"},
		{"only a newline", "\n", "", "is empty"},
		{"too large", strings.Repeat("x", MaxLen+1), "", "too large"},
		{"just fits", strings.Repeat("x", MaxLen), strings.Repeat("x", MaxLen), ""},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %q, %v; want an error %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "nope.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFromCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the commands are sh")
	}
	var stderr bytes.Buffer
	got, err := FromCommand(`read answer; printf 'from a manager %s\r\nsecond line\n' "$answer"; echo asked >&2`, strings.NewReader("yes\n"), &stderr)
	if err != nil || string(got) != "from a manager yes" {
		t.Fatalf("got %q, %v", got, err)
	}
	if stderr.String() != "asked\n" {
		t.Errorf("the command's stderr: %q", stderr.String())
	}
	for _, tc := range []struct{ command, err string }{
		{"echo nope >&2; exit 3", `--passphrase-command "echo nope >&2; exit 3" failed: exit status 3`},
		{"true", "printed no passphrase"},
		{"echo; echo second", "printed no passphrase"},
		{"head -c 5000 /dev/zero | tr '\\0' x", "printed more than a passphrase (5000 bytes)"},
	} {
		if got, err := FromCommand(tc.command, nil, nil); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %q, %v; want an error %q", tc.command, got, err, tc.err)
		}
	}
}
