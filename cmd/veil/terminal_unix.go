//go:build !windows

package main

import "os"

// terminal is the controlling terminal, opened for a prompt.
type terminal struct{ in, out *os.File }

// openTerminal opens the controlling terminal, /dev/tty, as age does: the
// passphrase is asked there even when standard input and output are pipes.
func openTerminal() (*terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &terminal{in: f, out: f}, nil
}

func (t *terminal) Close() error { return t.in.Close() }
