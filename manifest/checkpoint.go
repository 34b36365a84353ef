package manifest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint
// (https://c2sp.org/tlog-checkpoint): the log's origin, its size and the
// root hash of its Merkle tree.
type Checkpoint struct {
	Origin string
	N      int64
	Hash   tlog.Hash
}

// Text formats the checkpoint body. tlog.FormatTree cannot be used: it
// writes the Go checksum database's origin line.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.N, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ErrMalformedCheckpoint is returned for a checkpoint body that is not
// exactly origin, size and root hash lines.
var ErrMalformedCheckpoint = errors.New("malformed checkpoint")

// ParseCheckpoint parses a checkpoint body strictly. veil writes no extension
// lines, so it accepts none.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.Split(string(text), "\n")
	if len(lines) != 4 || lines[3] != "" || lines[0] == "" {
		return Checkpoint{}, ErrMalformedCheckpoint
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || lines[1] != strconv.FormatInt(n, 10) {
		return Checkpoint{}, fmt.Errorf("%w: size %q", ErrMalformedCheckpoint, lines[1])
	}
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root hash %q", ErrMalformedCheckpoint, lines[2])
	}
	c := Checkpoint{Origin: lines[0], N: n}
	copy(c.Hash[:], h)
	if !bytes.Equal(c.Text(), text) {
		return Checkpoint{}, ErrMalformedCheckpoint
	}
	return c, nil
}

// SignCheckpoint returns the signed note for c.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, signer)
	if err != nil {
		return nil, fmt.Errorf("manifest: sign checkpoint: %w", err)
	}
	return msg, nil
}

// CheckpointError says why a signed checkpoint was not accepted.
type CheckpointError struct {
	Problem string
	Err     error
}

func (e *CheckpointError) Error() string {
	if e.Err == nil {
		return e.Problem
	}
	return e.Problem + ": " + e.Err.Error()
}

func (e *CheckpointError) Unwrap() error { return e.Err }

// OpenCheckpoint verifies a signed checkpoint with the log's verifier and
// parses it; origin must match.
func OpenCheckpoint(msg []byte, origin string, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			names := make([]string, 0, len(unverified.Note.UnverifiedSigs))
			for _, s := range unverified.Note.UnverifiedSigs {
				names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, &CheckpointError{Problem: fmt.Sprintf("not signed by the log key %s+%08x (signed by %s)",
				v.Name(), v.KeyHash(), strings.Join(names, ", "))}
		case errors.As(err, &invalid):
			return Checkpoint{}, &CheckpointError{Problem: "signature does not match the checkpoint", Err: err}
		default:
			return Checkpoint{}, &CheckpointError{Problem: "not a signed note", Err: err}
		}
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, &CheckpointError{Problem: "bad body", Err: err}
	}
	if c.Origin != origin {
		return Checkpoint{}, &CheckpointError{Problem: fmt.Sprintf("origin %q is not this vault's %q", c.Origin, origin)}
	}
	return c, nil
}
