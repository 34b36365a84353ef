package main

import "os"

// terminal is the console, opened for a prompt.
type terminal struct{ in, out *os.File }

// openTerminal opens the console, CONIN$ and CONOUT$, as age does: the
// passphrase is asked there even when standard input and output are pipes.
func openTerminal() (*terminal, error) {
	in, err := os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		in.Close()
		return nil, err
	}
	return &terminal{in: in, out: out}, nil
}

func (t *terminal) Close() error {
	t.out.Close()
	return t.in.Close()
}
