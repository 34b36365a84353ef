package lookup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
)

// journalFile is the file under VAULT/index/ that maps keyed hashes to codes.
// It is append-only, one entry a line, and holds no plain identifier:
//
//	v <key scheme>
//	s <hex HMAC(index key, "subject" 0 subject key)> <subject code>
//	l <hex HMAC(index key, "loose" 0 loose key of the name)> <subject code>
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
// never gets a second code; an "l" line follows it when the subject key is
// a name, so that a later look-alike spelling is held rather than made a
// second patient (Index.Subject).
//
// A "v" line, written before the first "s" line, says how subject keys
// are made (keyScheme). A journal with "s" lines and no "v" line was made
// by a veil whose keys were the name with its accents removed: its keys
// cannot be matched to today's, and Open refuses it (ErrOldKeys) rather
// than give every returning patient a new code.
//
// Runs do not read the file into memory: its entries, with what the log
// says is committed, are kept in the table (tableFile), which follows both
// and is rebuilt from them when it cannot be shown to match them.
const journalFile = "ingest.idx"

// journal is journalFile, the durable file the table is built from.
type journal struct {
	file     string
	size     int64 // bytes, all whole lines
	tail     tail  // the last line
	subjects bool  // the replay met an "s" line
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

// replayJournal puts the entries of journalFile in dir from byte offset
// from on into t. A torn last line (a crash while appending) is dropped,
// and cut off the file when truncate is set.
func replayJournal(dir string, t *table, from int64, last tail, truncate bool) (*journal, error) {
	j := &journal{file: filepath.Join(dir, journalFile), size: from, tail: last}
	f, err := os.Open(j.file)
	if errors.Is(err, fs.ErrNotExist) && from == 0 {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup: journal: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, 1<<62), 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 && truncate {
				if err := os.Truncate(j.file, j.size); err != nil {
					return nil, fmt.Errorf("lookup: journal: cut torn line: %w", err)
				}
			}
			return j, nil
		}
		if err != nil {
			return nil, fmt.Errorf("lookup: journal %s: at byte %d: %w", j.file, j.size, err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		if err := putEntry(t, line); err != nil {
			return nil, fmt.Errorf("lookup: journal %s: at byte %d: %w", j.file, j.size, err)
		}
		j.subjects = j.subjects || line[0] == 's'

		j.size += int64(len(line)) + 1
		j.tail = lineTail(line)
	}
}

// keyScheme is the subject key scheme of the "v" line: 2 is the layout's
// keys ("name:" and the name with its accents, or "id:" and the ID) with
// loose keys beside names. Scheme 1 had no "v" line: the name with accents
// removed.
const keyScheme = "2"

// ErrOldKeys is returned by Open for a journal whose subject keys were made
// by an older veil (key scheme 1: the name with its accents removed).
var ErrOldKeys = errors.New("this vault's patient index was made by an older veil, whose patient keys ignored accents " +
	"(José and Jose were one patient); this veil keeps them apart, so every returning patient would get a new subject code, " +
	"and the vault holds no names to convert the keys from: ingest into this vault with the veil that made it, " +
	"or start a new vault with 'veil init' (the old one stays verifiable, and its custodian can still reveal and restore)")

// errEntry is a line of journalFile that is not an entry.
var errEntry = errors.New("malformed entry (the journal was damaged; move it away and run again to rebuild what the log allows)")

// putEntry puts one entry of journalFile into t.
func putEntry(t *table, line []byte) error {
	f := bytes.Split(line, []byte(" "))
	hexMAC := func(b []byte) (MAC, bool) {
		var m MAC
		n, err := hex.Decode(m[:], b)
		return m, err == nil && n == len(m) && len(b) == 2*len(m)
	}
	switch {
	case len(f) == 2 && string(f[0]) == "v":
		if string(f[1]) != keyScheme {
			return fmt.Errorf("patient key scheme %q: made by a newer veil (this one knows scheme %s); use that veil", f[1], keyScheme)
		}
		return t.put(kindVersion, slotKey{}, slotValue{keyScheme[0]})
	case len(f) == 3 && (string(f[0]) == "s" || string(f[0]) == "l"):
		k, ok := hexMAC(f[1])
		c, err := code.Parse(string(f[2]))
		if !ok || err != nil {
			return errEntry
		}
		k1 := kindSubject
		if f[0][0] == 'l' {
			k1 = kindLoose
		}
		return t.put(k1, slotKey(k.short()), slotValue(append(c[:], make([]byte, 16)...)))
	case len(f) == 4 && string(f[0]) == "o":
		k, ok := hexMAC(f[1])
		c, err := code.Parse(string(f[2]))
		p, ok2 := hexMAC(f[3])
		if !ok || !ok2 || err != nil {
			return errEntry
		}
		return t.put(kindOriginal, slotKey(k.short()), originalValue(c, p))
	case len(f) == 3 && string(f[0]) == "q":
		k, ok := hexMAC(f[1])
		r, ok2 := hexMAC(f[2])
		if !ok || !ok2 {
			return errEntry
		}
		return t.put(kindQuarantine, slotKey(k.short()), slotValue(r))
	case len(f) == 4 && string(f[0]) == "d":
		p, ok := hexMAC(f[1])
		o, ok2 := hexMAC(f[2])
		r, ok3 := hexMAC(f[3])
		if !ok || !ok2 || !ok3 {
			return errEntry
		}
		return t.put(kindDup, dupSlot(p, o), slotValue(r))
	}
	return errEntry
}

func originalValue(photo code.Code, path MAC) slotValue {
	var v slotValue
	copy(v[:16], photo[:])
	copy(v[16:], path[:16])
	return v
}

// appendDurable appends lines (each ending in a newline) to the journal and
// fsyncs it, and its folder when it created the file.
func (j *journal) appendDurable(lines string) error {
	if len(lines) == 0 {
		return nil
	}
	_, statErr := os.Stat(j.file)
	f, err := os.OpenFile(j.file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lookup: journal: %w", err)
	}
	_, err = f.WriteString(lines)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) {
		err = atomicfile.SyncDir(filepath.Dir(j.file))
	}
	if err != nil {
		return fmt.Errorf("lookup: journal: %w", err)
	}
	j.size += int64(len(lines))
	body := lines[:len(lines)-1]
	j.tail = lineTail([]byte(body[strings.LastIndexByte(body, '\n')+1:]))
	return nil
}

// Entries are the journal lines of one batch, written durably by
// Index.Append before the batch's records are appended to the log.
type Entries struct {
	ix        *Index
	b         strings.Builder
	subjects  []MAC // subjects whose "s" line this batch writes
	versioned bool  // the journal has, or this batch writes, the "v" line
	err       error // reading the table failed: Append fails
}

// Original adds the "o" line of a new photo (and the "s" and "l" lines of
// its subject if the subject code was assigned in this run and not yet
// written, after the "v" line if the journal has none yet).
func (e *Entries) Original(orig MAC, photo code.Code, path MAC, subject MAC) {
	ix := e.ix
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ns, ok := ix.newSubjects[subject]; ok && !ns.written {
		if !e.versioned {
			has, err := ix.tab.has(kindVersion, slotKey{})
			if err != nil && e.err == nil {
				e.err = err
			}
			if !has {
				e.b.WriteString("v " + keyScheme + "\n")
			}
			e.versioned = true
		}
		e.b.WriteString("s " + hex.EncodeToString(subject[:]) + " " + ns.code.String() + "\n")
		if ns.loose != nil {
			e.b.WriteString("l " + hex.EncodeToString(ns.loose[:]) + " " + ns.code.String() + "\n")
		}
		ns.written = true
		e.subjects = append(e.subjects, subject)
	}
	e.b.WriteString("o " + hex.EncodeToString(orig[:]) + " " + photo.String() + " " + hex.EncodeToString(path[:]) + "\n")
}

// Duplicate adds the "d" line of a duplicate source, by the SHA-256 of its
// duplicate record's line.
func (e *Entries) Duplicate(path, orig MAC, record [32]byte) {
	e.b.WriteString("d " + hex.EncodeToString(path[:]) + " " + hex.EncodeToString(orig[:]) + " " + hex.EncodeToString(record[:]) + "\n")
}

// Quarantine adds the "q" line of a quarantined file, by the SHA-256 of its
// quarantine record's line.
func (e *Entries) Quarantine(path MAC, record [32]byte) {
	e.b.WriteString("q " + hex.EncodeToString(path[:]) + " " + hex.EncodeToString(record[:]) + "\n")
}
