package passphrase

import "os"

// OpenTerminal opens the console, CONIN$ and CONOUT$, as age does: the
// passphrase is asked there even when standard input and output are pipes.
func OpenTerminal() (*Terminal, error) {
	in, err := os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		in.Close()
		return nil, err
	}
	return &Terminal{in: in, out: out}, nil
}

// Close closes the console.
func (t *Terminal) Close() error {
	t.out.Close()
	return t.in.Close()
}
