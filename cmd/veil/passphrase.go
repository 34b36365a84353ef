package main

import (
	"errors"
	"os"

	"github.com/veil-photo/veil/internal/passphrase"
)

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
	tty, err := passphrase.OpenTerminal()
	if err != nil {
		return nil, errors.New("no terminal to ask for the passphrase: use --passphrase-file FILE or --passphrase-command CMD")
	}
	defer tty.Close()
	return tty.Ask(prompt, confirm)
}
