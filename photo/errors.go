package photo

import (
	"errors"
	"fmt"
	"io"
)

// FormatError says that a file is not well-formed: it is truncated, a length
// field points past the end, or a structure the format requires is missing.
type FormatError struct {
	Format Format
	Offset int64  // byte offset in the file where the problem was found
	Msg    string // what is wrong, lower case
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: %s (at byte %d)", e.Format, e.Msg, e.Offset)
}

// ErrSelfCheck is matched (errors.Is) when a stripped output failed its own
// re-parse: it did not parse, or it still held something that must be dropped.
// This indicates a bug or a file veil does not understand; the caller should
// quarantine the input rather than release the output.
var ErrSelfCheck = errors.New("stripped output failed its self-check")

type selfCheckError struct{ err error }

func (e *selfCheckError) Error() string {
	return fmt.Sprintf("%v: %v", ErrSelfCheck, e.err)
}
func (e *selfCheckError) Unwrap() []error { return []error{ErrSelfCheck, e.err} }

// formatErr builds a FormatError, turning an unexpected end of input into a
// message a user understands.
func formatErr(f Format, off int64, err error) error {
	if err == nil {
		return nil
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{Format: f, Offset: off, Msg: "file ends early (truncated, or still being copied?)"}
	}
	return err
}
