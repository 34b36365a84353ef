//go:build !windows

package passphrase

import "os"

// OpenTerminal opens the controlling terminal, /dev/tty, as age does: the
// passphrase is asked there even when standard input and output are pipes.
func OpenTerminal() (*Terminal, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &Terminal{in: f, out: f}, nil
}

// Close closes the terminal.
func (t *Terminal) Close() error { return t.in.Close() }
