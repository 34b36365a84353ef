// Package release is the layout of the release folder that researchers,
// marketing and the gallery receive: RELEASE/<subject>/<photo>.<ext> and
// RELEASE/index.csv. ingest writes it, the audit checks it against the log
// and the gallery reads it; none of them spells a file name or a column on
// its own.
package release

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/photo"
)

// IndexFile is the release folder's index: one row per released photo, in
// the order of the log.
const IndexFile = "index.csv"

// Header is the first line of IndexFile.
const Header = "photo,subject,phase,interval,format,width,height,sha256\n"

// Row is one line of IndexFile. Every field is a code, a vocabulary word, an
// ISO 8601 duration, a number or a hash, so none needs quoting.
type Row struct {
	Photo    code.Code
	Subject  code.Code
	Phase    string // before, after, intraop, followup
	Interval string // ISO 8601 duration after the procedure (P2W, P6M), or empty
	Format   string // jpeg, png, webp, heic, avif, ...
	Width    int
	Height   int
	SHA256   string // of the released file, lower-case hex
}

// Line returns the row as IndexFile holds it, with its newline.
func (r Row) Line() string {
	return r.Photo.String() + "," + r.Subject.String() + "," + r.Phase + "," + r.Interval + "," + r.Format + "," +
		strconv.Itoa(r.Width) + "," + strconv.Itoa(r.Height) + "," + r.SHA256 + "\n"
}

// Path returns the released file of the row, relative to the release folder
// and with forward slashes.
func (r Row) Path() string { return PhotoPath(r.Subject, r.Photo, r.Format) }

// PhotoPath is where a released photo lives: <subject>/<photo><ext>, with
// the extension photo gives the format (".jpg" for jpeg). A format veil
// does not release has no extension.
func PhotoPath(subject, photoCode code.Code, format string) string {
	ext := ""
	if f, ok := photo.FormatByName(format); ok {
		ext = f.Ext()
	}
	return subject.String() + "/" + photoCode.String() + ext
}

// RowError is a line of IndexFile that is not a well-formed row.
type RowError struct {
	Line int // 1-based, the header being line 1
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("%s line %d: %v", IndexFile, e.Line, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// ErrHeader is returned by ReadIndex when the first line is not Header.
var ErrHeader = errors.New(IndexFile + ": the first line is not the header " + strings.TrimSpace(Header))

// ReadIndex reads IndexFile from r and calls fn with each row, in order.
// It is strict: a row must be exactly what Line writes, or ReadIndex stops
// with a *RowError naming the line.
func ReadIndex(r io.Reader, fn func(line int, row Row) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		s, err := br.ReadString('\n')
		if err == io.EOF && s == "" {
			if n == 0 {
				return ErrHeader
			}
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		n++
		if err == io.EOF {
			return &RowError{Line: n, Err: errors.New("the last line has no newline (cut short?)")}
		}
		if n == 1 {
			if s != Header {
				return ErrHeader
			}
			continue
		}
		row, perr := ParseRow(s)
		if perr != nil {
			return &RowError{Line: n, Err: perr}
		}
		if err := fn(n, row); err != nil {
			return err
		}
	}
}

// ParseRow parses one line of IndexFile, with or without its newline.
func ParseRow(s string) (Row, error) {
	f := strings.Split(strings.TrimSuffix(s, "\n"), ",")
	if len(f) != 8 {
		return Row{}, fmt.Errorf("%d fields, want 8", len(f))
	}
	var r Row
	var err error
	if r.Photo, err = code.Parse(f[0]); err != nil {
		return Row{}, fmt.Errorf("photo: %w", err)
	}
	if r.Subject, err = code.Parse(f[1]); err != nil {
		return Row{}, fmt.Errorf("subject: %w", err)
	}
	r.Phase, r.Interval, r.Format = f[2], f[3], f[4]
	if !isWord(r.Phase) || !isWord(r.Format) || (r.Interval != "" && !ValidInterval(r.Interval)) {
		return Row{}, errors.New("phase, interval or format is not a plain word")
	}
	if r.Width, err = dimension(f[5]); err != nil {
		return Row{}, fmt.Errorf("width: %w", err)
	}
	if r.Height, err = dimension(f[6]); err != nil {
		return Row{}, fmt.Errorf("height: %w", err)
	}
	r.SHA256 = f[7]
	if len(r.SHA256) != 64 || strings.Trim(r.SHA256, "0123456789abcdef") != "" {
		return Row{}, fmt.Errorf("sha256 %q is not a lower-case hex SHA-256", r.SHA256)
	}
	if r.Line() != strings.TrimSuffix(s, "\n")+"\n" {
		return Row{}, errors.New("not in the form veil writes")
	}
	return r, nil
}

func dimension(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<20 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("%q is not a pixel count", s)
	}
	return n, nil
}

func isWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidInterval reports whether s is an interval as veil writes it: an ISO
// 8601 duration of P and one or more number+unit pairs in the units Y, M, W,
// D (P2W, P6M, P1Y, P1Y6M). An interval is relative to the procedure, never
// a date.
func ValidInterval(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != 'P' {
		return false
	}
	digits := 0
	for _, c := range s[1:] {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case strings.ContainsRune("YMWD", c) && digits > 0:
			digits = 0
		default:
			return false
		}
	}
	return digits == 0
}
