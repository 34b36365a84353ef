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
	"github.com/veil-photo/veil/manifest"
)

// IndexFile is the file under VAULT/index/ that maps keyed hashes to codes.
// It is append-only, one entry a line, and holds no plain identifier:
//
//	s <hex HMAC(index key, "subject" 0 patient key)> <subject code>
//	o <hex HMAC(index key, "original" 0 sha256)> <photo code> <hex HMAC(index key, "path" 0 source path)>
//
//	d <hex HMAC(index key, "path" 0 source path)> <hex HMAC(index key, "original" 0 sha256)> <hex sha256 of the duplicate record's line>
//
// An "o" or "d" line is written before its record is committed, so it counts
// only when the log holds that record (the ingest record of its photo, or the
// very duplicate record named by its hash): a crash between the two leaves a
// line that is ignored. "d" lines let a rerun recognise a duplicate whose
// record was committed but whose source was not yet removed. An "s" line is written before the first
// record that names the subject, so a patient never gets a second code.
const IndexFile = "ingest.idx"

type mac [32]byte

// short is a mac cut to 128 bits: the in-memory key of the duplicate index,
// which is what memory grows with. Collisions among keyed 128-bit values are
// out of reach.
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

// seen is an "o" entry in memory, for a photo whose record is committed.
type seen struct {
	photo uuid.UUID
	path  short
}

// dupKey names a duplicate source: its path and its bytes.
type dupKey struct{ path, orig mac }

// index is the in-memory form of IndexFile.
type index struct {
	file      string
	subjects  map[mac]uuid.UUID
	originals map[short]seen // committed photos only, once New has pruned it
	dups      map[dupKey]mac // -> sha256 of the duplicate record
}

// loadIndex reads IndexFile in dir. A torn last line (a crash while
// appending) is dropped, and cut off the file when truncate is set.
func loadIndex(dir string, truncate bool) (*index, error) {
	ix := &index{file: filepath.Join(dir, IndexFile), subjects: map[mac]uuid.UUID{}, originals: map[short]seen{}, dups: map[dupKey]mac{}}
	f, err := os.Open(ix.file)
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: index: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 && truncate {
				if err := os.Truncate(ix.file, off); err != nil {
					return nil, fmt.Errorf("ingest: index: cut torn line: %w", err)
				}
			}
			return ix, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: index %s: line %d: %w", ix.file, n, err)
		}
		off += int64(len(line))
		if err := ix.parse(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
			return nil, fmt.Errorf("ingest: index %s: line %d: %w", ix.file, n, err)
		}
	}
}

func (ix *index) parse(line []byte) error {
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
		ix.subjects[k] = u
	case len(f) == 4 && string(f[0]) == "o":
		k, ok := hexMac(f[1])
		u, err := uuid.ParseBytes(f[2])
		p, ok2 := hexMac(f[3])
		if !ok || !ok2 || err != nil {
			return bad
		}
		ix.originals[k.short()] = seen{photo: u, path: p.short()}
	case len(f) == 4 && string(f[0]) == "d":
		p, ok := hexMac(f[1])
		o, ok2 := hexMac(f[2])
		r, ok3 := hexMac(f[3])
		if !ok || !ok2 || !ok3 {
			return bad
		}
		ix.dups[dupKey{path: p, orig: o}] = r
	default:
		return bad
	}
	return nil
}

func dupLine(k dupKey, rec mac) string {
	return "d " + hex.EncodeToString(k.path[:]) + " " + hex.EncodeToString(k.orig[:]) + " " + hex.EncodeToString(rec[:]) + "\n"
}

func subjectLine(k mac, u uuid.UUID) string {
	return "s " + hex.EncodeToString(k[:]) + " " + u.String() + "\n"
}

func originalLine(k mac, o original) string {
	return "o " + hex.EncodeToString(k[:]) + " " + o.photo.String() + " " + hex.EncodeToString(o.path[:]) + "\n"
}

// appendDurable appends lines to the index file and fsyncs it.
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
	return nil
}

// newCode returns a random UUIDv4: codes are never derived from anything
// about a patient or a time (SPEC: Release folder).
func newCode() (uuid.UUID, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("ingest: %w", err)
	}
	if !manifest.IsUUID(u.String()) {
		return uuid.UUID{}, fmt.Errorf("ingest: internal error: %s is not a UUIDv4", u)
	}
	return u, nil
}
