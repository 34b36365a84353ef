package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// maxPassphraseFile bounds what is read from --passphrase-file: a passphrase
// is a line, so a large file is a mistake (say, the custodian file itself).
const maxPassphraseFile = 4096

// readPassphrase returns the passphrase from file (--passphrase-file), with
// one trailing newline removed, or else asks for it on the terminal, twice
// when confirm is set. Secrets never come from flags or the environment.
func readPassphrase(file string, confirm bool, prompt string) ([]byte, error) {
	if file != "" {
		return readPassphraseFile(file)
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("no terminal to ask for the passphrase: use --passphrase-file FILE")
	}
	return promptPassphrase(fd, os.Stderr, confirm, prompt)
}

func readPassphraseFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPassphraseFile+1))
	if err != nil {
		return nil, fmt.Errorf("passphrase file %s: %w", file, err)
	}
	if len(b) > maxPassphraseFile {
		return nil, fmt.Errorf("passphrase file %s is too large to hold a passphrase", file)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", file)
	}
	return b, nil
}

// promptPassphrase reads a passphrase from the terminal fd without echo,
// writing prompts to w.
func promptPassphrase(fd int, w io.Writer, confirm bool, prompt string) ([]byte, error) {
	read := func(p string) ([]byte, error) {
		fmt.Fprint(w, p)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(w)
		if err != nil {
			return nil, fmt.Errorf("reading passphrase: %w", err)
		}
		return b, nil
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
