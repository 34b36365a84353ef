package manifest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// PendingFile is the log writer's note of the batch it is appending: the
// size of the log before the batch and the hash of each record, signed with
// the log key and made durable before the first record is written. After a
// crash between the records' fsync and the new checkpoint, Open completes
// only the records this note names: a record that someone else appended
// (anyone who can write the log folder can) is never signed by this host.
const PendingFile = "pending"

// pendingHeader is the first line of a pending note's text.
const pendingHeader = "veil pending batch v1"

// maxPendingRecords bounds a batch, and so what reading a pending note
// allocates.
const maxPendingRecords = 1 << 20

// pending is the body of a pending note.
type pending struct {
	origin string
	base   int64       // log size before the batch
	leaves []tlog.Hash // tlog.RecordHash of each record of the batch
}

func (p pending) text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s\n%d\n", pendingHeader, p.origin, p.base)
	for _, h := range p.leaves {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func parsePending(text []byte) (pending, error) {
	lines := strings.Split(string(text), "\n")
	if len(lines) < 5 || lines[0] != pendingHeader || lines[len(lines)-1] != "" || len(lines)-4 > maxPendingRecords {
		return pending{}, errors.New("malformed pending note")
	}
	base, err := strconv.ParseInt(lines[2], 10, 64)
	if err != nil || base < 0 {
		return pending{}, errors.New("malformed pending note")
	}
	p := pending{origin: lines[1], base: base}
	for _, l := range lines[3 : len(lines)-1] {
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != tlog.HashSize {
			return pending{}, errors.New("malformed pending note")
		}
		p.leaves = append(p.leaves, tlog.Hash(h))
	}
	if !bytes.Equal(p.text(), text) {
		return pending{}, errors.New("malformed pending note")
	}
	return p, nil
}

// signedBy reports whether msg is exactly what signer writes for its text.
// The writer holds a signer, not a verifier; Ed25519 signatures are
// deterministic, so signing the same text again and comparing the bytes is
// a signature check.
func signedBy(msg []byte, text []byte, signer note.Signer) bool {
	want, err := note.Sign(&note.Note{Text: string(text)}, signer)
	return err == nil && bytes.Equal(want, msg)
}

// writePending makes the note for a batch durable in f before the batch is
// written: in place (no rename, no folder sync), so it costs one fsync.
func writePending(f *os.File, p pending, signer note.Signer) error {
	msg, err := note.Sign(&note.Note{Text: string(p.text())}, signer)
	if err != nil {
		return fmt.Errorf("manifest: pending: %w", err)
	}
	if _, err := f.WriteAt(msg, 0); err != nil {
		return fmt.Errorf("manifest: pending: %w", err)
	}
	if err := f.Truncate(int64(len(msg))); err != nil {
		return fmt.Errorf("manifest: pending: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("manifest: pending: %w", err)
	}
	return nil
}

// readPending returns the pending note in f if it is signed by signer for
// origin; ok is false for a missing, torn or foreign note.
func readPending(f *os.File, origin string, signer note.Signer) (p pending, ok bool) {
	msg, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, 1<<62), 64<<20))
	if err != nil || len(msg) == 0 {
		return pending{}, false
	}
	n, err := note.Open(msg, unverified{})
	var uv *note.UnverifiedNoteError
	switch {
	case errors.As(err, &uv):
		n = uv.Note
	case err != nil:
		return pending{}, false
	}
	if !signedBy(msg, []byte(n.Text), signer) {
		return pending{}, false
	}
	p, err = parsePending([]byte(n.Text))
	if err != nil || p.origin != origin {
		return pending{}, false
	}
	return p, true
}

// unverified is a verifier list that knows no key, so note.Open returns the
// note's text in an UnverifiedNoteError; the signature is checked by
// signedBy.
type unverified struct{}

func (unverified) Verifier(name string, hash uint32) (note.Verifier, error) {
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}
