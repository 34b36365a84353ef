// Package lookup is ingest's HMAC-keyed index of everything the vault ever
// took: which photo holds an original, which code a patient has (and which
// loose keys of names are taken), which duplicate and quarantine records
// are committed. Its truth is the journal
// (ingest.idx) and the log; the on-disk table (ingest.tab) follows both so
// that a run reads a slot at a time instead of the whole history, and is
// rebuilt from them whenever it cannot be shown to match them.
//
// No entry holds a name, a path or a hash of the photo in clear: only MACs
// under the vault's index key, and random codes.
package lookup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
)

// Index is the lookup index of one vault, safe for concurrent use.
type Index struct {
	mu          sync.Mutex
	tab         *table
	jr          *journal
	logDir      string
	clean       bool // the table was closed cleanly and covered what it claims
	openedCount int64
	openedSize  int64
	broken      bool // something went wrong: leave the table to be rebuilt
	private     string
	newSubjects map[MAC]*newSubject // assigned in this run, not yet in the table
	newLoose    map[MAC]bool        // the loose keys of newSubjects
}

// newSubject is a subject code assigned in this run, kept in memory until
// the table holds it. Its line is written with the first batch that names it.
type newSubject struct {
	code    code.Code
	loose   *MAC // the MAC of its name's loose key; nil for an ID
	written bool
}

// ErrLookAlike is returned by Subject for a new patient whose name
// resembles the name of a patient the vault (or this run) already has.
var ErrLookAlike = errors.New("lookup: the name resembles another patient's")

// Open opens the index in indexDir for a writer that holds the vault lock,
// brings it up to date with the journal and the log in logDir (rebuilding
// the table if it does not match them) and marks it in use, so that a run
// that does not end with a clean Close leaves it to be rebuilt.
func Open(indexDir, logDir string) (*Index, error) {
	return open(indexDir, indexDir, logDir, true)
}

// OpenPrivate is Open for a reader that changes nothing in the vault (a dry
// run): it works on a private copy of the table, in a temporary folder that
// Close removes, and may be told of photos that are not really committed.
func OpenPrivate(indexDir, logDir string) (*Index, error) {
	tmp, err := os.MkdirTemp("", "veil-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	// Start from a copy of the vault's table, which is current if the last
	// run closed it cleanly; otherwise the copy is rebuilt like any stale
	// table.
	copyFile(filepath.Join(indexDir, tableFile), filepath.Join(tmp, tableFile))
	ix, err := open(tmp, indexDir, logDir, false)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	ix.private = tmp
	return ix, nil
}

func open(tableDir, journalDir, logDir string, writable bool) (*Index, error) {
	t, valid, err := openTable(filepath.Join(tableDir, tableFile))
	if err != nil {
		return nil, err
	}
	ix := &Index{tab: t, logDir: logDir, newSubjects: map[MAC]*newSubject{}, newLoose: map[MAC]bool{}}
	if valid {
		valid = endsWith(filepath.Join(journalDir, journalFile), t.hdr.journalSize, t.hdr.journalTail) &&
			endsWith(filepath.Join(logDir, manifest.RecordsFile), t.hdr.logSize, t.hdr.logTail)
	}
	if !valid {
		// Some other copy of the journal or of the log than the one the
		// table was made from (or none): build it anew.
		if err := t.reset(); err != nil {
			t.close()
			return nil, err
		}
	}
	ix.clean = valid
	ix.openedCount, ix.openedSize = t.hdr.logCount, t.hdr.logSize
	if writable {
		if err := t.markDirty(); err != nil {
			t.close()
			return nil, err
		}
	}
	if ix.jr, err = replayJournal(journalDir, t, t.hdr.journalSize, t.hdr.journalTail, writable); err != nil {
		t.close()
		return nil, err
	}
	t.hdr.journalSize, t.hdr.journalTail = ix.jr.size, ix.jr.tail
	// A table that covered part of the journal already was checked when
	// that part was read: only subjects read now need the check.
	if ix.jr.subjects {
		if versioned, err := t.has(kindVersion, slotKey{}); err != nil || !versioned {
			t.close()
			if err == nil {
				err = fmt.Errorf("lookup: %s: %w", ix.jr.file, ErrOldKeys)
			}
			return nil, err
		}
	}
	err = manifest.ScanFrom(logDir, t.hdr.logSize, t.hdr.logCount, func(i int64, line []byte) error {
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("lookup: log record %d: %w", i, err)
		}
		return ix.follow(i, line, r)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.close()
		return nil, err
	}
	return ix, nil
}

// copyFile copies src to a new file dst, best effort: a private table that
// did not copy whole is found invalid and rebuilt.
func copyFile(src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		return
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	defer out.Close()
	io.Copy(out, in)
}

// WasClean reports whether the last writer closed the index cleanly: if
// not, it may have left blobs, released files and quarantined files that
// no record names, and the caller must look for them.
func (ix *Index) WasClean() bool { return ix.clean }

// LogCovered returns how much of the log, in records and bytes, the table
// was shown to cover when it was opened (0, 0 when it was rebuilt): state
// kept beside it by the same writer for the same prefix of the log may be
// trusted if the index WasClean.
func (ix *Index) LogCovered() (count, size int64) { return ix.openedCount, ix.openedSize }

// LastCommitted returns the checkpoint of the log that the writer which
// last closed the index in indexDir saw committed (zero if none is
// recorded), reading the table's header only: a writer checks that the log
// extends it before it opens, and so changes, anything.
func LastCommitted(indexDir string) Committed {
	f, err := os.Open(filepath.Join(indexDir, tableFile))
	if err != nil {
		return Committed{}
	}
	defer f.Close()
	var raw [headerSize]byte
	if _, err := io.ReadFull(f, raw[:]); err != nil {
		return Committed{}
	}
	h, _ := decodeHeader(raw[:])
	return h.committed
}

// SetCommitted records c, the checkpoint of the log as this writer leaves
// it, for LastCommitted after the next Close. A table that is not closed
// cleanly keeps the one it had.
func (ix *Index) SetCommitted(c Committed) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.tab != nil && ix.private == "" {
		ix.tab.hdr.committed = c
	}
}

// Break leaves the table to be rebuilt by the next Open, whatever Close is
// told: a batch failed half-way, or the search for debris did not finish.
func (ix *Index) Break() {
	ix.mu.Lock()
	ix.broken = true
	ix.mu.Unlock()
}

// Close closes the index. The table is marked clean only if nothing broke
// it and it covers exactly the log's first logCount records (logSize
// bytes); otherwise the next Open rebuilds it. A private index is removed.
func (ix *Index) Close(logCount, logSize int64) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t := ix.tab
	if t == nil {
		return nil
	}
	ix.tab = nil
	if ix.private != "" {
		defer os.RemoveAll(ix.private)
		return t.close()
	}
	if ix.broken || logSize != t.hdr.logSize || logCount != t.hdr.logCount {
		return t.close()
	}
	return t.closeClean()
}

// Find looks up the original with MAC orig among committed photos. found
// reports whether one holds it; seen reports whether the source at path is
// accounted for already: it is the very file that photo was ingested from,
// or a duplicate of it whose record is committed.
func (ix *Index) Find(orig, path MAC) (photo code.Code, found, seen bool, err error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	v, ok, err := ix.tab.get(kindOriginal, slotKey(orig.short()))
	if err != nil || !ok {
		return photo, false, false, err
	}
	photo = code.Code(v[:16])
	// An "o" entry counts only if its photo's record is committed: a crash
	// between the journal fsync and the log append leaves one that does not.
	if found, err = ix.tab.has(kindPhoto, slotKey(photo)); err != nil || !found {
		return photo, false, false, err
	}
	if short(v[16:]) == path.short() {
		return photo, true, true, nil
	}
	seen, err = ix.recordLogged(kindDup, dupSlot(path, orig))
	return photo, true, seen, err
}

// QuarantineLogged reports whether a quarantine record is committed for the
// quarantined file whose path has MAC path.
func (ix *Index) QuarantineLogged(path MAC) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.recordLogged(kindQuarantine, slotKey(path.short()))
}

// recordLogged reports whether the entry (k, key) names, by its line's
// hash, a record the log holds. The caller holds mu.
func (ix *Index) recordLogged(k kind, key slotKey) (bool, error) {
	v, ok, err := ix.tab.get(k, key)
	if err != nil || !ok {
		return false, err
	}
	return ix.tab.has(kindRecord, slotKey(v[:16]))
}

// PhotoCommitted reports whether the log holds the ingest record of photo.
func (ix *Index) PhotoCommitted(photo code.Code) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.tab.has(kindPhoto, slotKey(photo))
}

// BlobCommitted reports whether an ingest record of the log names the blob
// hash (hex); a name that is not a SHA-256 is not.
func (ix *Index) BlobCommitted(hash string) (bool, error) {
	var b [32]byte
	if n, err := hex.Decode(b[:], []byte(hash)); err != nil || n != len(b) {
		return false, nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.tab.has(kindBlob, slotKey(b[:16]))
}

// Subject returns the subject code of the patient with MAC k: the one the
// index holds, or one assigned earlier in this run, or a new one, which the
// journal gets with the first batch that names it. loose is the MAC of the
// loose key of the patient's name (nil for a patient known by an ID): a
// new patient whose loose key another patient has is neither merged with
// nor split from that one; the error is ErrLookAlike and no code is
// assigned, so that staff decide.
func (ix *Index) Subject(k MAC, loose *MAC) (code.Code, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ns, ok := ix.newSubjects[k]; ok {
		return ns.code, nil
	}
	v, ok, err := ix.tab.get(kindSubject, slotKey(k.short()))
	if err != nil {
		return code.Code{}, err
	}
	if ok {
		return code.Code(v[:16]), nil
	}
	if loose != nil {
		taken := ix.newLoose[*loose]
		if !taken {
			if taken, err = ix.tab.has(kindLoose, slotKey(loose.short())); err != nil {
				return code.Code{}, err
			}
		}
		if taken {
			return code.Code{}, ErrLookAlike
		}
	}
	c, err := code.New()
	if err != nil {
		return code.Code{}, fmt.Errorf("lookup: %w", err)
	}
	ix.newSubjects[k] = &newSubject{code: c, loose: loose}
	if loose != nil {
		ix.newLoose[*loose] = true
	}
	return c, nil
}

// HasSubject reports whether the patient with MAC k has a subject code:
// in the index, or assigned in this run.
func (ix *Index) HasSubject(k MAC) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.newSubjects[k]; ok {
		return true, nil
	}
	return ix.tab.has(kindSubject, slotKey(k.short()))
}

// Assume makes a private index answer as if photo, holding the original
// orig from path, were committed: what the rest of a dry run must see.
func (ix *Index) Assume(orig MAC, photo code.Code, path MAC) error {
	if ix.private == "" {
		return errors.New("lookup: internal error: Assume on the vault's own index")
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.tab.put(kindOriginal, slotKey(orig.short()), originalValue(photo, path)); err != nil {
		return err
	}
	return ix.tab.put(kindPhoto, slotKey(photo), slotValue{})
}

// Entries starts the journal lines of a batch.
func (ix *Index) Entries() *Entries { return &Entries{ix: ix} }

// Append makes e durable in the journal: before the records that rely on
// them are appended to the log.
func (ix *Index) Append(e *Entries) error {
	if e.err != nil {
		return e.err
	}
	return ix.jr.appendDurable(e.b.String())
}

// Follow brings the table up to date with a committed batch: the entries it
// appended to the journal and its records, appended to the log as records
// first, first+1, ..., read as a rebuild would read them. A failure breaks
// the index (it is rebuilt by the next Open).
func (ix *Index) Follow(e *Entries, recs []manifest.Record, first int64) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	err := ix.followLocked(e, recs, first)
	if err != nil {
		ix.broken = true
	}
	return err
}

func (ix *Index) followLocked(e *Entries, recs []manifest.Record, first int64) error {
	t := ix.tab
	for line := range strings.Lines(e.b.String()) {
		if err := putEntry(t, []byte(strings.TrimSuffix(line, "\n"))); err != nil {
			return fmt.Errorf("lookup: %w", err)
		}
	}
	t.hdr.journalSize, t.hdr.journalTail = ix.jr.size, ix.jr.tail
	for _, k := range e.subjects {
		if l := ix.newSubjects[k].loose; l != nil {
			delete(ix.newLoose, *l)
		}
		delete(ix.newSubjects, k)
	}
	for i, r := range recs {
		line, err := manifest.Marshal(r)
		if err != nil {
			return fmt.Errorf("lookup: %w", err)
		}
		if err := ix.follow(first+int64(i), line, r); err != nil {
			return err
		}
	}
	return nil
}

// follow puts record i of the log, line, into the table: committed photos,
// blobs, and duplicate and quarantine records.
func (ix *Index) follow(i int64, line []byte, r manifest.Record) error {
	t := ix.tab
	switch r := r.(type) {
	case *manifest.Duplicate, *manifest.Quarantine:
		h := sha256.Sum256(line)
		if err := t.put(kindRecord, slotKey(h[:16]), h); err != nil {
			return err
		}
	case *manifest.Ingest:
		photo, err := code.Parse(r.Photo)
		if err != nil {
			return fmt.Errorf("lookup: log record %d: photo: %w", i, err)
		}
		var b [32]byte
		if n, err := hex.Decode(b[:], []byte(r.Blob.SHA256)); err != nil || n != len(b) {
			return fmt.Errorf("lookup: log record %d: blob %q is not a SHA-256", i, r.Blob.SHA256)
		}
		if err := t.put(kindPhoto, slotKey(photo), slotValue{}); err != nil {
			return err
		}
		if err := t.put(kindBlob, slotKey(b[:16]), slotValue(b)); err != nil {
			return err
		}
	}
	t.hdr.logCount, t.hdr.logSize, t.hdr.logTail = i+1, t.hdr.logSize+int64(len(line))+1, lineTail(line)
	return nil
}
