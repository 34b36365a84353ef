package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/veil-photo/veil/internal/filekind"
)

// openLogFile opens one of the log's files for reading. Whoever can write
// the vault folder can put a FIFO, a device or a symbolic link in a log
// file's place: a FIFO would hang the auditor's nightly verify for ever, a
// link would make it read another file. So it opens only a regular file,
// without following a link and without blocking.
func openLogFile(name string) (*os.File, error) {
	f, _, err := filekind.OpenRegular(name)
	if errors.Is(err, filekind.ErrNotRegular) {
		return nil, replaced(name)
	}
	return f, err
}

// readLogFile reads a whole small log file (the checkpoint) as openLogFile
// opens it.
func readLogFile(name string) ([]byte, error) {
	f, err := openLogFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// checkOpened refuses a log file opened for writing that is not a regular
// file, before anything reads or writes it.
func checkOpened(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return replaced(f.Name())
	}
	return nil
}

// replaced is the error for a log file that is not a regular file.
func replaced(name string) error {
	return fmt.Errorf("%s: %w: the log's files are regular files, and something else was put in its place", name, filekind.ErrNotRegular)
}
