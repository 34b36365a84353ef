package passphrase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/term"
)

// ErrAborted is returned when the custodian presses Ctrl-C or Ctrl-D at the
// prompt.
var ErrAborted = errors.New("no passphrase given: aborted at the prompt")

// Terminal is the terminal a passphrase is typed on: the controlling
// terminal (the console on Windows), never standard input, which may be a
// pipe (xargs, a script) that the command does not own.
type Terminal struct{ in, out *os.File }

// Ask writes prompt and ": " to the terminal and reads a passphrase without
// echo, and with confirm asks again with "confirm " before the prompt. An
// empty passphrase, or two that differ, is an error. The terminal is in raw
// mode meanwhile, so that Ctrl-C and Ctrl-D are keys: both abort with
// ErrAborted (in cooked mode Ctrl-D on an empty line reads as nothing, and
// veil catches SIGINT to finish cleanly, so neither would end the prompt).
// The terminal is restored whatever happens.
func (t *Terminal) Ask(prompt string, confirm bool) ([]byte, error) {
	pass, err := t.readHidden(prompt + ": ")
	if err != nil {
		return nil, err
	}
	if len(pass) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if confirm {
		again, err := t.readHidden("confirm " + prompt + ": ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pass, again) {
			return nil, errors.New("the passphrases do not match; run the command again")
		}
	}
	return pass, nil
}

// readHidden shows prompt and reads one line in raw mode.
func (t *Terminal) readHidden(prompt string) ([]byte, error) {
	// Raw before the prompt shows: a key pressed after it is a key.
	state, err := term.MakeRaw(int(t.in.Fd()))
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	fmt.Fprint(t.out, prompt)
	b, err := readLine(t.in)
	term.Restore(int(t.in.Fd()), state)
	fmt.Fprintln(t.out)
	return b, err
}

// Keys readLine acts on.
const (
	keyCtrlC     = 3
	keyCtrlD     = 4
	keyBackspace = 8
	keyCtrlU     = 21
	keyDelete    = 127
)

// readLine reads a line typed on a terminal in raw mode, with the editing
// keys of a cooked terminal: backspace and Ctrl-U.
func readLine(r io.Reader) ([]byte, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, ErrAborted
			}
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		switch c := b[0]; c {
		case '\r', '\n':
			return line, nil
		case keyCtrlC, keyCtrlD:
			return nil, ErrAborted
		case keyBackspace, keyDelete:
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
			}
		case keyCtrlU:
			line = line[:0]
		default:
			line = append(line, c)
		}
		if len(line) > MaxLen {
			return nil, errors.New("reading passphrase: the line is too long for a passphrase")
		}
	}
}
