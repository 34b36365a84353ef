package passphrase

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/veil-photo/veil/internal/testpty"
	"golang.org/x/sys/unix"
)

// prompt runs Ask on tty and types each answer once its prompt is shown,
// as a person would.
func prompt(t *testing.T, master, tty *os.File, confirm bool, answers ...string) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := (&Terminal{in: tty, out: tty}).Ask("passphrase for the custodian file", confirm)
		done <- result{b, err}
	}()
	for i, a := range answers {
		want := "passphrase for the custodian file: "
		if i > 0 {
			want = "confirm " + want
		}
		testpty.Expect(t, master, want)
		io.WriteString(master, a)
	}
	// Read the rest, so that the prompt's writes never block.
	go io.Copy(io.Discard, master)
	r := <-done
	return r.b, r.err
}

func TestAsk(t *testing.T) {
	for _, tt := range []struct {
		name    string
		confirm bool
		answers []string
		want    string // the passphrase, or a part of the error
	}{
		{"confirmed", true, []string{"correct horse\r", "correct horse\r"}, "correct horse"},
		{"edited", false, []string{"wrong\x15corrcet\x7f\x7f\x7fect horse\r"}, "correct horse"},
		{"mismatch", true, []string{"correct horse\r", "correct hose\r"}, "do not match"},
		{"empty", true, []string{"\r"}, "empty passphrase"},
		{"Ctrl-D", false, []string{"\x04"}, "aborted at the prompt"},
		{"Ctrl-C", true, []string{"correct horse\r", "corr\x03"}, "aborted at the prompt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			master, tty := testpty.Open(t)
			got, err := prompt(t, master, tty, tt.confirm, tt.answers...)
			if string(got) != tt.want && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
			if st, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS); err != nil || st.Lflag&unix.ECHO == 0 || st.Lflag&unix.ICANON == 0 {
				t.Errorf("terminal not restored after the prompt: %v", err)
			}
		})
	}
}
