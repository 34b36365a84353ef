package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/veil-photo/veil/internal/passphrase"
	"golang.org/x/term"
)

// errPassphraseAborted is returned when the custodian presses Ctrl-C or
// Ctrl-D at the prompt.
var errPassphraseAborted = errors.New("no passphrase given: aborted at the prompt")

// readPassphrase returns the passphrase from file (--passphrase-file), with
// one trailing newline removed, or from the first line that command
// (--passphrase-command) prints, or else asks for it on the controlling
// terminal, twice when confirm is set. Secrets never come from flags or the
// environment, and never from standard input, which may be a pipe
// (xargs, a script) that the command does not own.
func readPassphrase(file, command string, confirm bool, prompt string) ([]byte, error) {
	switch {
	case file != "" && command != "":
		return nil, usageError{err: errors.New("give --passphrase-file or --passphrase-command, not both"), cmd: "veil"}
	case file != "":
		return passphrase.ReadFile(file)
	case command != "":
		return passphrase.FromCommand(command, os.Stdin, os.Stderr)
	}
	tty, err := openTerminal()
	if err != nil {
		return nil, errors.New("no terminal to ask for the passphrase: use --passphrase-file FILE or --passphrase-command CMD")
	}
	defer tty.Close()
	return promptPassphrase(tty.in, tty.out, confirm, prompt)
}

// promptPassphrase reads a passphrase from the terminal in without echo,
// writing prompts to out. The terminal is in raw mode meanwhile, so that
// veil sees Ctrl-C and Ctrl-D as keys: both abort with
// errPassphraseAborted (in cooked mode Ctrl-D on an empty line reads as
// nothing, and veil catches SIGINT to finish cleanly, so neither would end
// the prompt). The terminal is restored whatever happens.
func promptPassphrase(in *os.File, out io.Writer, confirm bool, prompt string) ([]byte, error) {
	read := func(p string) ([]byte, error) {
		// Raw before the prompt shows: a key pressed after it is a key.
		state, err := term.MakeRaw(int(in.Fd()))
		if err != nil {
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		fmt.Fprint(out, p)
		b, err := readLine(in)
		term.Restore(int(in.Fd()), state)
		fmt.Fprintln(out)
		return b, err
	}
	pass, err := read(prompt + ": ")
	if err != nil {
		return nil, err
	}
	if len(pass) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if confirm {
		again, err := read("confirm " + prompt + ": ")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pass, again) {
			return nil, errors.New("the passphrases do not match; run the command again")
		}
	}
	return pass, nil
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
				return nil, errPassphraseAborted
			}
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		switch c := b[0]; c {
		case '\r', '\n':
			return line, nil
		case keyCtrlC, keyCtrlD:
			return nil, errPassphraseAborted
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
		if len(line) > passphrase.MaxLen {
			return nil, errors.New("reading passphrase: the line is too long for a passphrase")
		}
	}
}
