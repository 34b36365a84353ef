package audit

// The per-record state below is what an audit of a large log holds in
// memory, so it is kept flat and small: hashes and codes as bytes rather
// than hex strings, no pointers, one entry per record in record order (the
// order the phases check them in and report what they find), and indexes
// keyed by a 64-bit hash of the key rather than by the key itself. Two keys
// with the same index hash are told apart by the entry, and the later one is
// indexed by its full key in a spill map, which stays empty unless someone
// crafts collisions.

import (
	"encoding/hex"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
)

// blocks is an append-only list kept in blocks of fixed size: a large slice
// that grows holds its old and new copies at once, which would be an audit's
// peak memory.
type blocks[T any] struct {
	b [][]T
	n int
}

const blockLen = 4096

func (l *blocks[T]) add(x T) {
	if l.n%blockLen == 0 {
		l.b = append(l.b, make([]T, blockLen))
	}
	l.b[l.n/blockLen][l.n%blockLen] = x
	l.n++
}

func (l *blocks[T]) at(k int) *T { return &l.b[k/blockLen][k%blockLen] }

func (l *blocks[T]) len() int { return l.n }

// blobRef is a blob a record names.
type blobRef struct {
	sha    [32]byte
	record int64
	size   int64
}

// blobTable holds the blobs the log names, the first record for each.
type blobTable struct {
	seed  maphash.Seed
	refs  blocks[blobRef]
	index map[uint64]int   // maphash of sha: entry in refs
	spill map[[32]byte]int // sha whose maphash is already in index: entry
}

func newBlobTable() *blobTable {
	return &blobTable{seed: maphash.MakeSeed(), index: make(map[uint64]int), spill: make(map[[32]byte]int)}
}

// find returns the entry of the blob sha, if a record named it.
func (t *blobTable) find(sha [32]byte) (*blobRef, bool) {
	k, ok := t.index[maphash.Bytes(t.seed, sha[:])]
	if ok && t.refs.at(k).sha != sha {
		k, ok = t.spill[sha]
	}
	if !ok {
		return nil, false
	}
	return t.refs.at(k), true
}

// add notes the blob that record i names; find must not know it yet.
func (t *blobTable) add(i int64, sha [32]byte, size int64) {
	h := maphash.Bytes(t.seed, sha[:])
	if _, taken := t.index[h]; taken {
		t.spill[sha] = t.refs.len()
	} else {
		t.index[h] = t.refs.len()
	}
	t.refs.add(blobRef{sha: sha, record: i, size: size})
}

// releaseRef is a released file a record names, and its row of index.csv.
// Its path is the one the release layout gives its codes and format
// (release.PhotoPath), kept as codes and a format number; an invalid record
// may log another path, or a hash that is not hex, kept aside in
// releaseTable.
type releaseRef struct {
	sha     [32]byte
	record  int64
	subject code.Code
	photo   code.Code
	width   uint32
	height  uint32
	rowNo   uint32 // position among the rows of index.csv
	format  uint8  // index in releaseTable.formats
	phase   uint8  // index in manifest.Phases
	state   releaseState
	row     bool // a valid ingest record: index.csv must have its row as logged
	listed  bool // index.csv has its row
}

type releaseState uint8

const (
	releaseUnseen  releaseState = iota // not (yet) found in the release folder
	releaseOdd                         // found, but not a regular file
	releaseRegular                     // found: a regular file to hash
)

// releaseTable holds the released files the log names, the first record for
// each path.
type releaseTable struct {
	seed  maphash.Seed
	refs  blocks[releaseRef]
	index map[uint64]int // maphash of path: entry in refs
	spill map[string]int // path whose maphash is already in index: entry
	// byPhoto and photoSpill index the entries by photo code, to match the
	// rows of index.csv.
	byPhoto    map[uint64]int
	photoSpill map[code.Code]int
	rows       int // entries with rows
	// formats are the format names the records use, by number: a handful.
	formats  []string
	formatNo map[string]uint8
	// oddPath, oddSHA and oddFormat hold, by entry, what an invalid record
	// logged that releaseRef cannot: a path of another form, a hash that is
	// not hex, a format beyond the 256 that formats numbers.
	oddPath   map[int]string
	oddSHA    map[int]string
	oddFormat map[int]string
	// interval holds, by entry, the interval its record logged, if any:
	// most photos have none.
	interval map[int]string
}

func newReleaseTable() *releaseTable {
	return &releaseTable{seed: maphash.MakeSeed(), index: make(map[uint64]int), spill: make(map[string]int),
		byPhoto: make(map[uint64]int), photoSpill: make(map[code.Code]int), formatNo: make(map[string]uint8),
		oddPath: make(map[int]string), oddSHA: make(map[int]string), oddFormat: make(map[int]string), interval: make(map[int]string)}
}

// find returns the entry of the released file at path, if a record logged it.
func (t *releaseTable) find(path string) (int, bool) {
	k, ok := t.index[maphash.String(t.seed, path)]
	if ok && t.path(k) != path {
		k, ok = t.spill[path]
	}
	return k, ok
}

// add notes the released file that record i logged, and its row unless the
// record is damaged; find must not know its path yet.
func (t *releaseTable) add(i int64, r *manifest.Ingest, damaged bool) {
	k := t.refs.len()
	path := r.Released.Path
	h := maphash.String(t.seed, path)
	if _, taken := t.index[h]; taken {
		t.spill[path] = k
	} else {
		t.index[h] = k
	}
	u := releaseRef{record: i}
	subject, err1 := code.Parse(r.Subject)
	photo, err2 := code.Parse(r.Photo)
	u.subject, u.photo = subject, photo
	u.format = t.formatNumber(k, r.Format)
	if err1 != nil || err2 != nil || release.PhotoPath(subject, photo, r.Format) != path {
		t.oddPath[k] = path
	}
	if sha, ok := parseSHA256(r.Released.SHA256); ok {
		u.sha = sha
	} else {
		t.oddSHA[k] = r.Released.SHA256
	}
	// A damaged record is indexed by photo too, so that its row in
	// index.csv is not also reported: the record is the finding.
	if t.addPhoto(k, photo) && !damaged {
		u.row, u.rowNo = true, uint32(t.rows)
		u.phase = uint8(slices.Index(manifest.Phases, r.Phase))
		u.width, u.height = uint32(r.Released.Width), uint32(r.Released.Height)
		if r.Interval != "" {
			t.interval[k] = r.Interval
		}
		t.rows++
	}
	t.refs.add(u)
}

// addPhoto indexes entry k by its photo code, unless an earlier entry has
// that code (a reused code, which the log's audit reports).
func (t *releaseTable) addPhoto(k int, photo code.Code) bool {
	if _, ok := t.findPhoto(photo); ok {
		return false
	}
	h := maphash.Bytes(t.seed, photo[:])
	if _, taken := t.byPhoto[h]; taken {
		t.photoSpill[photo] = k
	} else {
		t.byPhoto[h] = k
	}
	return true
}

// findPhoto returns the entry of the record that issued photo.
func (t *releaseTable) findPhoto(photo code.Code) (int, bool) {
	k, ok := t.byPhoto[maphash.Bytes(t.seed, photo[:])]
	if ok && t.refs.at(k).photo != photo {
		k, ok = t.photoSpill[photo]
	}
	return k, ok
}

// formatNumber returns the number of format, or keeps it aside for entry k
// once formats holds 256.
func (t *releaseTable) formatNumber(k int, format string) uint8 {
	n, ok := t.formatNo[format]
	if ok {
		return n
	}
	if len(t.formats) > 255 {
		t.oddFormat[k] = format
		return 0
	}
	n = uint8(len(t.formats))
	t.formats = append(t.formats, format)
	t.formatNo[format] = n
	return n
}

// format returns the format of entry k as the record logged it.
func (t *releaseTable) format(k int) string {
	if f, ok := t.oddFormat[k]; ok {
		return f
	}
	return t.formats[t.refs.at(k).format]
}

// path returns the path of entry k as the record logged it.
func (t *releaseTable) path(k int) string {
	if p, ok := t.oddPath[k]; ok {
		return p
	}
	u := t.refs.at(k)
	return release.PhotoPath(u.subject, u.photo, t.format(k))
}

// row returns the row of index.csv that entry k calls for: what ingest
// writes for the record (release.Row.Line).
func (t *releaseTable) row(k int) release.Row {
	u := t.refs.at(k)
	return release.Row{Photo: u.photo, Subject: u.subject, Phase: manifest.Phases[u.phase], Interval: t.interval[k], Format: t.format(k),
		Width: int(u.width), Height: int(u.height), SHA256: t.sha(k)}
}

// sha returns the released hash of entry k as the record logged it.
func (t *releaseTable) sha(k int) string {
	if s, ok := t.oddSHA[k]; ok {
		return s
	}
	return hex.EncodeToString(t.refs.at(k).sha[:])
}

// parseSHA256 packs a lower-case hex SHA-256 into 32 bytes, the form
// hex.EncodeToString gives back unchanged; anything else is not a hash the
// log could name.
func parseSHA256(s string) ([32]byte, bool) {
	var k [32]byte
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return k, false
	}
	hex.Decode(k[:], []byte(s))
	return k, true
}
