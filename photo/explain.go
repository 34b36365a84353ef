package photo

import "errors"

// Explain turns an error about one photo into words for the person who holds
// the file: what is wrong and what to do about it. veil strip, scan and
// ingest all say it this way, so the same file gets the same advice from
// every command. Errors that are not about the photo's content are returned
// as they are.
func Explain(err error) string {
	var fe *FormatError
	switch {
	case errors.Is(err, ErrSelfCheck):
		// Checked first: a failed self-check may wrap the FormatError of the
		// re-parse, but the fault is veil's, not the file's.
		return err.Error() + " (the original is untouched; please report this file to the veil developers)"
	case errors.Is(err, ErrEmpty):
		return "empty file (was the copy interrupted? copy it again)"
	case errors.As(err, &fe):
		return err.Error() + "; the file is damaged or incomplete (copy it again from the camera or phone)"
	}
	return err.Error()
}
