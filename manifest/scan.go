package manifest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// Names of the files in the log directory.
const (
	RecordsFile    = "records"
	HashesFile     = "hashes"
	CheckpointFile = "checkpoint"
)

// lineStatus says what lineReader found.
type lineStatus int

const (
	lineOK      lineStatus = iota
	lineTooLong            // longer than MaxRecordSize; its bytes are not returned
	lineTorn               // the file ends without a newline: an append that did not finish
)

// lineReader streams the records file line by line with bounded memory.
type lineReader struct {
	br  *bufio.Reader
	off int64 // offset of the next line
}

func newLineReader(r io.Reader) *lineReader {
	// One more than the largest record plus its newline, so that ReadSlice
	// returns every valid line whole.
	return &lineReader{br: bufio.NewReaderSize(r, MaxRecordSize+2)}
}

// next returns the next line without its newline; the slice is valid until
// the next call. At the end of the file it returns io.EOF.
func (r *lineReader) next() ([]byte, lineStatus, error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
		r.off += int64(len(line))
		return line[:len(line)-1], lineOK, nil
	case errors.Is(err, bufio.ErrBufferFull):
		n := int64(len(line))
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			n += int64(len(line))
		}
		r.off += n
		if errors.Is(err, io.EOF) {
			return nil, lineTorn, nil
		}
		if err != nil {
			return nil, 0, err
		}
		return nil, lineTooLong, nil
	case errors.Is(err, io.EOF):
		if len(line) == 0 {
			return nil, 0, io.EOF
		}
		r.off += int64(len(line))
		return line, lineTorn, nil
	default:
		return nil, 0, err
	}
}

// CorruptError reports a records file that cannot be read as a log: a line
// longer than any record, or (when scanning) a torn final line.
type CorruptError struct {
	Index   int64 // record index where the damage is
	Problem string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("manifest: record %d: %s", e.Index, e.Problem)
}

// Scan streams the log in dir, calling fn with each record's index and line
// (valid only during the call). A torn final line, which Open would
// truncate, is reported as a *CorruptError, as is an over-long line.
func Scan(dir string, fn func(i int64, line []byte) error) error {
	return ScanFrom(dir, 0, 0, fn)
}

// ScanFrom is Scan starting at byte offset off of the records file, which
// must be the start of record first: a reader that has seen a prefix of the
// log reads only what was appended since.
func ScanFrom(dir string, off, first int64, fn func(i int64, line []byte) error) error {
	f, err := openLogFile(filepath.Join(dir, RecordsFile))
	if errors.Is(err, fs.ErrNotExist) && off == 0 {
		return nil // nothing appended yet
	}
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	lr := newLineReader(f)
	for i := first; ; i++ {
		line, st, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		switch st {
		case lineTooLong:
			return &CorruptError{Index: i, Problem: "line longer than any record"}
		case lineTorn:
			return &CorruptError{Index: i, Problem: "incomplete final line (interrupted append)"}
		}
		if err := fn(i, line); err != nil {
			return err
		}
	}
}
