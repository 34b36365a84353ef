// Package code is the random code veil gives every photo, patient and vault:
// a UUID version 4 (RFC 9562), written in lower case with hyphens. A code is
// never derived from anything about a patient, a device or a time.
package code

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Code is a UUIDv4. The zero Code is not a valid code.
type Code [16]byte

// ErrSyntax is wrapped by the errors of Parse.
var ErrSyntax = errors.New("not a lower-case UUIDv4")

// New returns a fresh random code.
func New() (Code, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return Code{}, fmt.Errorf("code: %w", err)
	}
	c := Code(u)
	if !c.v4() {
		return Code{}, fmt.Errorf("code: internal error: %s is not a UUIDv4", uuid.UUID(c))
	}
	return c, nil
}

// Parse reads a code in the only form veil writes: 36 characters, lower-case
// hex, hyphens at 8, 13, 18 and 23, version 4, RFC 9562 variant. Anything
// else (upper case, braces, urn:uuid:, other versions) is refused, so a code
// has exactly one spelling in the log, the release folder and index.csv.
func Parse(s string) (Code, error) {
	var c Code
	if len(s) != 36 {
		return c, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return Code{}, fmt.Errorf("%q: %w", s, ErrSyntax)
			}
			i--
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return Code{}, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		c[j] = hi<<4 | lo
		j++
	}
	if !c.v4() {
		return Code{}, fmt.Errorf("%q: %w", s, ErrSyntax)
	}
	return c, nil
}

// Valid reports whether s is a code as Parse accepts it.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

func fromHex(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	}
	return 0, false
}

func (c Code) v4() bool { return c[6]>>4 == 4 && c[8]>>6 == 2 }

// IsZero reports whether c is the zero Code (no code).
func (c Code) IsZero() bool { return c == Code{} }

// String returns the canonical lower-case hyphenated form.
func (c Code) String() string { return uuid.UUID(c).String() }

// MarshalText implements encoding.TextMarshaler.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the rules of Parse.
func (c *Code) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}
