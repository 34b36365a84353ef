package ingest

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/uuid"
	"github.com/veil-photo/veil/internal/code"
)

// IndexFile is the file under VAULT/index/ that maps keyed hashes to codes.
// It is append-only, one entry a line, and holds no plain identifier:
//
//	s <hex HMAC(index key, "subject" 0 patient key)> <subject code>
//	o <hex HMAC(index key, "original" 0 sha256)> <photo code> <hex HMAC(index key, "path" 0 source path)>
//
//	d <hex HMAC(index key, "path" 0 source path)> <hex HMAC(index key, "original" 0 sha256)> <hex sha256 of the duplicate record's line>
//	q <hex HMAC(index key, "path" 0 quarantined file's path)> <hex sha256 of the quarantine record's line>
//
// An "o" or "d" line is written before its record is committed, so it counts
// only when the log holds that record (the ingest record of its photo, or the
// very duplicate record named by its hash): a crash between the two leaves a
// line that is ignored. "d" lines let a rerun recognise a duplicate whose
// record was committed but whose source was not yet removed. An "s" line is
// written before the first record that names the subject, so a patient
// never gets a second code.
//
// Runs do not read the file into memory: its entries, with what the log
// says is committed, are kept in the lookup table (TableFile), which follows
// both and is rebuilt from them when it cannot be shown to match them.
const IndexFile = "ingest.idx"

type mac [32]byte

// short is a mac cut to 128 bits: the key of a slot in the lookup table.
// Collisions among keyed 128-bit values are out of reach.
type short [16]byte

func (m mac) short() short { return short(m[:16]) }

// keyed computes the HMACs of the index; the domain keeps the three kinds of
// input apart.
type keyed struct{ key []byte }

func (k keyed) sum(domain string, data []byte) mac {
	h := hmac.New(sha256.New, k.key)
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write(data)
	var m mac
	h.Sum(m[:0])
	return m
}

func (k keyed) subject(patientKey string) mac { return k.sum("subject", []byte(patientKey)) }
func (k keyed) original(sha mac) mac          { return k.sum("original", sha[:]) }
func (k keyed) path(p string) mac             { return k.sum("path", []byte(p)) }

// original is an "o" entry.
type original struct {
	photo uuid.UUID
	path  mac
}

// dupKey names a duplicate source: its path and its bytes.
type dupKey struct{ path, orig mac }

// slot is the table key of a "d" entry.
func (d dupKey) slot() slotKey {
	h := sha256.New()
	h.Write(d.path[:])
	h.Write(d.orig[:])
	return slotKey(h.Sum(nil)[:16])
}

// index is IndexFile, the durable journal the lookup table is built from.
type index struct {
	file string
	size int64 // bytes, all whole lines
	tail tail  // the last line
}

// lineTail identifies a line (without its newline) as the last of a prefix.
func lineTail(line []byte) tail { return tail{sum: sha256.Sum256(line), n: uint32(len(line))} }

// endsWith reports whether the file at path is at least size bytes long and
// its first size bytes end with the line tl (or tl is of an empty prefix and
// size is 0): the cheap proof that a file is the one a table covered, only
// longer.
func endsWith(path string, size int64, tl tail) bool {
	if size == 0 {
		return tl.n == 0
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	lineStart := size - 1 - int64(tl.n)
	if tl.n == 0 || lineStart < 0 {
		return false
	}
	from := lineStart
	if from > 0 {
		from-- // the newline that ends the line before
	}
	b := make([]byte, size-from)
	if _, err := f.ReadAt(b, from); err != nil {
		return false
	}
	if b[len(b)-1] != '\n' || lineStart > 0 && b[0] != '\n' {
		return false
	}
	line := b[len(b)-1-int(tl.n) : len(b)-1]
	return sha256.Sum256(line) == tl.sum
}

// replayIndex puts the entries of IndexFile in dir from byte offset from on
// into t. A torn last line (a crash while appending) is dropped, and cut off
// the file when truncate is set.
func replayIndex(dir string, t *table, from int64, last tail, truncate bool) (*index, error) {
	ix := &index{file: filepath.Join(dir, IndexFile), size: from, tail: last}
	f, err := os.Open(ix.file)
	if errors.Is(err, fs.ErrNotExist) && from == 0 {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: index: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, 1<<62), 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 && truncate {
				if err := os.Truncate(ix.file, ix.size); err != nil {
					return nil, fmt.Errorf("ingest: index: cut torn line: %w", err)
				}
			}
			return ix, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: index %s: at byte %d: %w", ix.file, ix.size, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if err := parseIndexLine(t, line); err != nil {
			return nil, fmt.Errorf("ingest: index %s: at byte %d: %w", ix.file, ix.size, err)
		}
		ix.size += int64(len(line)) + 1
		ix.tail = lineTail(line)
	}
}

// parseIndexLine puts one entry of IndexFile into t.
func parseIndexLine(t *table, line []byte) error {
	f := bytes.Split(line, []byte(" "))
	bad := errors.New("malformed entry (the index was damaged; move it away and run again to rebuild what the log allows)")
	hexMac := func(b []byte) (mac, bool) {
		var m mac
		n, err := hex.Decode(m[:], b)
		return m, err == nil && n == len(m) && len(b) == 2*len(m)
	}
	switch {
	case len(f) == 3 && string(f[0]) == "s":
		k, ok := hexMac(f[1])
		u, err := uuid.ParseBytes(f[2])
		if !ok || err != nil {
			return bad
		}
		return t.put(kindSubject, slotKey(k.short()), slotValue(append(u[:], make([]byte, 16)...)))
	case len(f) == 4 && string(f[0]) == "o":
		k, ok := hexMac(f[1])
		u, err := uuid.ParseBytes(f[2])
		p, ok2 := hexMac(f[3])
		if !ok || !ok2 || err != nil {
			return bad
		}
		return t.put(kindOriginal, slotKey(k.short()), originalValue(u, p))
	case len(f) == 3 && string(f[0]) == "q":
		k, ok := hexMac(f[1])
		r, ok2 := hexMac(f[2])
		if !ok || !ok2 {
			return bad
		}
		return t.put(kindQuarantine, slotKey(k.short()), slotValue(r))
	case len(f) == 4 && string(f[0]) == "d":
		p, ok := hexMac(f[1])
		o, ok2 := hexMac(f[2])
		r, ok3 := hexMac(f[3])
		if !ok || !ok2 || !ok3 {
			return bad
		}
		return t.put(kindDup, dupKey{path: p, orig: o}.slot(), slotValue(r))
	}
	return bad
}

func originalValue(photo uuid.UUID, path mac) slotValue {
	var v slotValue
	copy(v[:16], photo[:])
	copy(v[16:], path[:16])
	return v
}

func dupLine(k dupKey, rec mac) string {
	return "d " + hex.EncodeToString(k.path[:]) + " " + hex.EncodeToString(k.orig[:]) + " " + hex.EncodeToString(rec[:]) + "\n"
}

func quarantineLine(k mac, rec mac) string {
	return "q " + hex.EncodeToString(k[:]) + " " + hex.EncodeToString(rec[:]) + "\n"
}

func subjectLine(k mac, u uuid.UUID) string {
	return "s " + hex.EncodeToString(k[:]) + " " + u.String() + "\n"
}

func originalLine(k mac, o original) string {
	return "o " + hex.EncodeToString(k[:]) + " " + o.photo.String() + " " + hex.EncodeToString(o.path[:]) + "\n"
}

// appendDurable appends lines (each ending in a newline) to the index file
// and fsyncs it.
func (ix *index) appendDurable(lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(ix.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("ingest: index: %w", err)
	}
	_, err = f.Write(lines)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ingest: index: %w", err)
	}
	ix.size += int64(len(lines))
	body := lines[:len(lines)-1]
	ix.tail = lineTail(body[bytes.LastIndexByte(body, '\n')+1:])
	return nil
}

// newCode returns a random UUIDv4: codes are never derived from anything
// about a patient or a time (SPEC: Release folder).
func newCode() (uuid.UUID, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("ingest: %w", err)
	}
	if !code.Valid(u.String()) {
		return uuid.UUID{}, fmt.Errorf("ingest: internal error: %s is not a UUIDv4", u)
	}
	return u, nil
}
