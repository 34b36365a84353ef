package lookup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"

	"github.com/veil-photo/veil/internal/atomicfile"
)

// tableFile is the lookup table under VAULT/index/: what ingest needs to
// know about every photo the vault ever took (is this original already in?
// is this photo, blob, duplicate record committed? which code has this
// patient?), kept on disk and read a slot at a time, so that a run's memory
// does not grow with the vault. It is derived data: journalFile and the log
// are the truth, and the table is rebuilt from them whenever it cannot be
// shown to match them — after any run that did not close it cleanly.
const tableFile = "ingest.tab"

// The table is an open-addressing hash table of fixed slots after a header:
//
//	header (4096 bytes): magic, size, what it covers (see tableHeader), crc64
//	slot (64 bytes):     kind, key[16], value[32], zero[7], crc64 of the rest
//
// Keys are keyed hashes or random codes, so their leading bytes are already
// uniform; a slot is found by linear probing from a multiplicative hash.
const (
	tableMagic = "veil-ingest-tab2" // 2: loose keys and the key scheme's version
	headerSize = 4096
	slotSize   = 64
	probeSlots = 8  // slots read with one pread
	minBits    = 10 // 1024 slots
	maxFillNum = 3  // grow past 3/5 full
	maxFillDen = 5
)

// kind says what a slot holds.
type kind byte

const (
	kindSubject    kind = 's' // HMAC of a patient key -> subject code
	kindOriginal   kind = 'o' // HMAC of an original's SHA-256 -> photo code, HMAC of its source path
	kindDup        kind = 'd' // hash of (path HMAC, original HMAC) -> SHA-256 of the duplicate record's line
	kindPhoto      kind = 'p' // a committed photo code
	kindBlob       kind = 'b' // a committed blob (first 16 bytes of its hash) -> the whole hash
	kindRecord     kind = 'r' // a committed duplicate or quarantine record (first 16 bytes of its line's SHA-256) -> the whole
	kindQuarantine kind = 'q' // HMAC of a quarantined file's path -> SHA-256 of its quarantine record's line
	kindLoose      kind = 'l' // HMAC of a name's loose key -> the code of the first subject that had it
	kindVersion    kind = 'v' // the zero key -> the subject key scheme of the journal (keyScheme)
)

type slotKey [16]byte
type slotValue [32]byte

var crcTable = crc64.MakeTable(crc64.ECMA)

// ErrTableDamaged reports a slot or header whose checksum does not match.
var ErrTableDamaged = errors.New("lookup: table damaged")

// tableHeader is what the table covers: a prefix of journalFile and of the
// log, each identified by its length and the SHA-256 and length of its last
// line.
type tableHeader struct {
	bits        uint8
	clean       bool // closed after a run that left nothing behind
	used        int64
	journalSize int64
	journalTail tail
	logCount    int64
	logSize     int64
	logTail     tail
	// committed is the checkpoint of the log (records, root) that this
	// host last saw committed when it closed the index: the log it opens
	// next must extend it. Unlike the fields above it survives a reset,
	// for a rebuilt table still follows the same log.
	committed Committed
}

// Committed is a checkpoint of the log: its first N records, whose Merkle
// tree has root Root. N == 0 means none is known.
type Committed struct {
	N    int64
	Root [32]byte
}

// tail identifies the last line of a covered prefix.
type tail struct {
	sum [32]byte
	n   uint32 // length of the line without its newline; 0: empty prefix
}

type table struct {
	path string
	f    *os.File
	hdr  tableHeader
	buf  [probeSlots * slotSize]byte
}

// openTable opens the table at path, or creates an empty one. valid reports
// whether an existing table's header was intact and marked clean; if not,
// the table is reset to empty.
func openTable(path string) (t *table, valid bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lookup: table: %w", err)
	}
	t = &table{path: path, f: f}
	var raw [headerSize]byte
	n, _ := f.ReadAt(raw[:], 0)
	if n == headerSize {
		if h, ok := decodeHeader(raw[:]); ok {
			t.hdr.committed = h.committed
			if fi, err := f.Stat(); err == nil && h.clean && fi.Size() == headerSize+slotSize<<h.bits {
				t.hdr = h
				return t, true, nil
			}
		}
	}
	if err := t.reset(); err != nil {
		f.Close()
		return nil, false, err
	}
	return t, false, nil
}

// reset empties the table: the caller rebuilds it from journalFile and the log.
func (t *table) reset() error {
	t.hdr = tableHeader{bits: minBits, committed: t.hdr.committed}
	if err := t.f.Truncate(0); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	if err := t.f.Truncate(headerSize + slotSize<<minBits); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	return t.writeHeader()
}

func (t *table) close() error { return t.f.Close() }

// markDirty records, durably, that the table is in use: a run that does not
// end with closeClean leaves it to be rebuilt.
func (t *table) markDirty() error {
	t.hdr.clean = false
	if err := t.writeHeader(); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	return nil
}

// closeClean makes the slots durable, then the header that vouches for them.
func (t *table) closeClean() error {
	err := t.f.Sync()
	if err == nil {
		t.hdr.clean = true
		err = t.writeHeader()
	}
	if err == nil {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	return nil
}

func (t *table) writeHeader() error {
	if _, err := t.f.WriteAt(encodeHeader(&t.hdr), 0); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	return nil
}

func encodeHeader(h *tableHeader) []byte {
	b := make([]byte, headerSize)
	copy(b, tableMagic)
	b[16] = h.bits
	if h.clean {
		b[17] = 1
	}
	le := binary.LittleEndian
	le.PutUint64(b[24:], uint64(h.used))
	le.PutUint64(b[32:], uint64(h.journalSize))
	copy(b[40:72], h.journalTail.sum[:])
	le.PutUint32(b[72:], h.journalTail.n)
	le.PutUint64(b[80:], uint64(h.logCount))
	le.PutUint64(b[88:], uint64(h.logSize))
	copy(b[96:128], h.logTail.sum[:])
	le.PutUint32(b[128:], h.logTail.n)
	le.PutUint64(b[136:], uint64(h.committed.N))
	copy(b[144:176], h.committed.Root[:])
	le.PutUint64(b[headerSize-8:], crc64.Checksum(b[:headerSize-8], crcTable))
	return b
}

func decodeHeader(b []byte) (tableHeader, bool) {
	le := binary.LittleEndian
	if string(b[:16]) != tableMagic || le.Uint64(b[headerSize-8:]) != crc64.Checksum(b[:headerSize-8], crcTable) {
		return tableHeader{}, false
	}
	h := tableHeader{bits: b[16], clean: b[17] == 1, used: int64(le.Uint64(b[24:])),
		journalSize: int64(le.Uint64(b[32:])), logCount: int64(le.Uint64(b[80:])), logSize: int64(le.Uint64(b[88:]))}
	copy(h.journalTail.sum[:], b[40:72])
	h.journalTail.n = le.Uint32(b[72:])
	copy(h.logTail.sum[:], b[96:128])
	h.logTail.n = le.Uint32(b[128:])
	h.committed.N = int64(le.Uint64(b[136:]))
	copy(h.committed.Root[:], b[144:176])
	if h.bits < minBits || h.bits > 40 || h.used < 0 || h.journalSize < 0 || h.logCount < 0 || h.logSize < 0 || h.committed.N < 0 {
		return tableHeader{}, false
	}
	return h, true
}

func (t *table) home(k kind, key slotKey) uint64 {
	h := (binary.LittleEndian.Uint64(key[:8]) ^ uint64(k)<<56) * 0x9E3779B97F4A7C15
	return h >> (64 - uint64(t.hdr.bits))
}

// find returns the slot number holding (k, key), or the first empty slot
// of its probe sequence with found false.
func (t *table) find(k kind, key slotKey) (slot uint64, found bool, err error) {
	mask := uint64(1)<<t.hdr.bits - 1
	i := t.home(k, key)
	for probed := uint64(0); probed <= mask; {
		n := min(probeSlots, mask+1-i) // do not read past the end; wrap instead
		b := t.buf[:n*slotSize]
		if _, err := t.f.ReadAt(b, headerSize+int64(i)*slotSize); err != nil {
			return 0, false, fmt.Errorf("lookup: table: %w", err)
		}
		for j := range n {
			s := b[j*slotSize : (j+1)*slotSize]
			if s[0] == 0 {
				return i + j, false, nil
			}
			if binary.LittleEndian.Uint64(s[56:]) != crc64.Checksum(s[:56], crcTable) {
				return 0, false, fmt.Errorf("%w: slot %d (it is rebuilt by the next run that finds it closed uncleanly; move %s away to force that)", ErrTableDamaged, i+j, t.path)
			}
			if kind(s[0]) == k && bytes.Equal(s[1:17], key[:]) {
				return i + j, true, nil
			}
		}
		probed += n
		i = (i + n) & mask
	}
	return 0, false, fmt.Errorf("lookup: table: full")
}

// get returns the value stored for (k, key).
func (t *table) get(k kind, key slotKey) (slotValue, bool, error) {
	slot, found, err := t.find(k, key)
	if err != nil || !found {
		return slotValue{}, false, err
	}
	var v slotValue
	off := headerSize + int64(slot)*slotSize + 17
	if _, err := t.f.ReadAt(v[:], off); err != nil {
		return slotValue{}, false, fmt.Errorf("lookup: table: %w", err)
	}
	return v, true, nil
}

// has reports whether (k, key) is in the table.
func (t *table) has(k kind, key slotKey) (bool, error) {
	_, found, err := t.find(k, key)
	return found, err
}

// put stores value for (k, key), replacing what was there.
func (t *table) put(k kind, key slotKey, value slotValue) error {
	slot, found, err := t.find(k, key)
	if err != nil {
		return err
	}
	if !found && (t.hdr.used+1)*maxFillDen > maxFillNum<<t.hdr.bits {
		if err := t.grow(); err != nil {
			return err
		}
		if slot, _, err = t.find(k, key); err != nil {
			return err
		}
	}
	if err := t.writeSlot(t.f, slot, k, key, value); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	if !found {
		t.hdr.used++
	}
	return nil
}

func (t *table) writeSlot(f *os.File, slot uint64, k kind, key slotKey, value slotValue) error {
	var s [slotSize]byte
	s[0] = byte(k)
	copy(s[1:17], key[:])
	copy(s[17:49], value[:])
	binary.LittleEndian.PutUint64(s[56:], crc64.Checksum(s[:56], crcTable))
	_, err := f.WriteAt(s[:], headerSize+int64(slot)*slotSize)
	return err
}

// grow doubles the table into a new file, streaming the old slots, and
// renames it into place. The table is dirty while in use, so a crash here
// leaves a temporary file (removed by the next writer) and a table to rebuild.
func (t *table) grow() error {
	nf, err := os.CreateTemp(filepath.Dir(t.path), atomicfile.TempPrefix+"tab-*")
	if err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	defer func() {
		if nf != nil {
			nf.Close()
			os.Remove(nf.Name())
		}
	}()
	nt := &table{path: t.path, f: nf, hdr: t.hdr}
	nt.hdr.bits++
	nt.hdr.used = 0
	if err := nf.Truncate(headerSize + slotSize<<nt.hdr.bits); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	r := io.NewSectionReader(t.f, headerSize, slotSize<<t.hdr.bits)
	chunk := make([]byte, 1024*slotSize)
	for {
		n, err := io.ReadFull(r, chunk)
		for s := chunk[:n]; len(s) >= slotSize; s = s[slotSize:] {
			if s[0] == 0 {
				continue
			}
			if binary.LittleEndian.Uint64(s[56:64]) != crc64.Checksum(s[:56], crcTable) {
				return fmt.Errorf("%w (while growing it)", ErrTableDamaged)
			}
			k, key, value := kind(s[0]), slotKey(s[1:17]), slotValue(s[17:49])
			slot, found, err := nt.find(k, key)
			if err != nil {
				return err
			}
			if !found {
				if err := nt.writeSlot(nf, slot, k, key, value); err != nil {
					return fmt.Errorf("lookup: table: %w", err)
				}
				nt.hdr.used++
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("lookup: table: %w", err)
		}
	}
	if err := nt.writeHeader(); err != nil {
		return err
	}
	if err := os.Rename(nf.Name(), t.path); err != nil {
		return fmt.Errorf("lookup: table: %w", err)
	}
	t.f.Close()
	t.f, t.hdr = nf, nt.hdr
	nf = nil
	return nil
}
