package manifest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// BlobStore is the part of the vault that Verify reads: where a blob lives
// and which blobs exist. *vault.Vault satisfies it.
type BlobStore interface {
	BlobPath(hash string) string
	WalkBlobs(fn func(hash string, size int64) error) error
}

// VerifyOptions says what to verify and with which keys. The keys should
// come from the auditor's pinned auditor.pub, not from the vault under audit.
type VerifyOptions struct {
	LogDir        string              // the vault's log directory
	Origin        string              // the log's origin line, "veil/<vault id>"
	LogVerifier   note.Verifier       // verifies the checkpoint signature
	CustodianKeys []ed25519.PublicKey // keys allowed to sign access records
	Pinned        []byte              // a signed checkpoint from an earlier audit, or nil
	Blobs         BlobStore           // nil skips the blob checks
	ReleaseDir    string              // "" skips the release checks
	Workers       int                 // parallel file hashing; 0 means one per core
}

// Check names the kind of check a finding comes from.
type Check string

// The checks of Verify.
const (
	CheckCheckpoint Check = "checkpoint" // the signed checkpoint and the tree it commits to
	CheckPinned     Check = "pinned"     // consistency with the auditor's pinned checkpoint
	CheckRecord     Check = "record"     // the record's schema and meaning
	CheckHashes     Check = "hashes"     // the stored hash cache against the records
	CheckAccess     Check = "access"     // custodian signatures on access records
	CheckBlob       Check = "blob"       // encrypted originals in the vault
	CheckRelease    Check = "release"    // the release folder
)

// Finding is one problem Verify found.
type Finding struct {
	Record  int64  `json:"record"` // index of the record concerned, or -1
	Check   Check  `json:"check"`
	Object  string `json:"object"`  // what is damaged: "checkpoint", "blob 3fa9…", "released file x/y.jpg"
	Problem string `json:"problem"` // what is wrong, with the evidence
}

// String formats the finding as one line: "record 1184: blob 3fa9…: missing".
func (f Finding) String() string {
	var b strings.Builder
	if f.Record >= 0 {
		fmt.Fprintf(&b, "record %d: ", f.Record)
	}
	if f.Object != "" {
		b.WriteString(f.Object)
		b.WriteString(": ")
	}
	b.WriteString(f.Problem)
	return b.String()
}

// MaxFindings bounds the findings a Report keeps; the rest are counted.
const MaxFindings = 10000

// Report is the outcome of Verify.
type Report struct {
	Findings []Finding
	Omitted  int // findings beyond MaxFindings

	Records     int64
	Photos      int64
	Subjects    int64
	Duplicates  int64
	Quarantines int64
	Accesses    int64
	Bytes       int64 // size of the logged blobs

	// Checkpoint is the log's signed checkpoint if its signature verified,
	// and CheckpointNote its signed text, which an auditor pins.
	Checkpoint     *Checkpoint
	CheckpointNote []byte
	// Pinned is the pinned checkpoint if one was given and it verified.
	Pinned *Checkpoint

	// AccessLog lists every reversal of codes in the log, in order, so that
	// an auditor sees each one (at most MaxFindings; the rest are counted in
	// Accesses).
	AccessLog []AccessEvent
}

// AccessEvent is one access record as an auditor reads it.
type AccessEvent struct {
	Record    int64     `json:"record"`
	Action    string    `json:"action"`
	Codes     []string  `json:"codes"`
	Reason    string    `json:"reason"`
	Time      time.Time `json:"time"`
	Custodian string    `json:"custodian"`
}

// OK reports whether the audit found nothing.
func (r *Report) OK() bool { return len(r.Findings) == 0 && r.Omitted == 0 }

func (r *Report) add(f Finding) {
	if len(r.Findings) >= MaxFindings {
		r.Omitted++
		return
	}
	r.Findings = append(r.Findings, f)
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// Verify audits the log, and with opts.Blobs and opts.ReleaseDir the vault's
// blobs and the release folder. Damage is reported as findings in the
// report; the error is for an audit that could not run (I/O errors,
// cancellation).
func Verify(ctx context.Context, opts VerifyOptions) (*Report, error) {
	if opts.LogVerifier == nil {
		return nil, errors.New("manifest: verify: no log verifier key")
	}
	v := &verifier{opts: opts, rep: &Report{}, hashMismatch: -1}
	if err := v.checkpoints(); err != nil {
		return nil, err
	}
	if err := v.scan(ctx); err != nil {
		return nil, err
	}
	v.photos, v.subjects = nil, nil // only the scan needs them: free them for the file checks
	v.tree()
	if opts.Blobs != nil {
		if err := v.blobs(ctx); err != nil {
			return nil, err
		}
	}
	if opts.ReleaseDir != "" {
		if err := v.release(ctx); err != nil {
			return nil, err
		}
	}
	return v.rep, nil
}

// The per-record state below is what an audit of a large log holds in
// memory, so it is kept flat and small: hashes and codes as bytes rather
// than hex strings, no pointers, one entry per record in record order (the
// order the phases check them in and report what they find), and indexes
// keyed by a 64-bit hash of the key rather than by the key itself. Two keys
// with the same index hash are told apart by the entry, and the later one is
// indexed by its full key in a spill map, which stays empty unless someone
// crafts collisions.

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

// releaseRef is a released file a record names. Its path is the one ingest
// writes, <subject>/<photo>.<ext>, kept as codes and extension; an invalid
// record may log another path, or a hash that is not hex, kept aside in
// releaseTable.
type releaseRef struct {
	sha     [32]byte
	record  int64
	subject [16]byte
	photo   [16]byte
	ext     [8]byte // zero-padded
	state   releaseState
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
	// oddPath and oddSHA hold, by entry, what an invalid record logged that
	// releaseRef cannot: a path of another form, a hash that is not hex.
	oddPath map[int]string
	oddSHA  map[int]string
}

func newReleaseTable() *releaseTable {
	return &releaseTable{seed: maphash.MakeSeed(), index: make(map[uint64]int), spill: make(map[string]int),
		oddPath: make(map[int]string), oddSHA: make(map[int]string)}
}

// find returns the entry of the released file at path, if a record logged it.
func (t *releaseTable) find(path string) (int, bool) {
	k, ok := t.index[maphash.String(t.seed, path)]
	if ok && t.path(k) != path {
		k, ok = t.spill[path]
	}
	return k, ok
}

// add notes the released file that record i logged; find must not know its
// path yet.
func (t *releaseTable) add(i int64, r Released) {
	k := t.refs.len()
	h := maphash.String(t.seed, r.Path)
	if _, taken := t.index[h]; taken {
		t.spill[r.Path] = k
	} else {
		t.index[h] = k
	}
	u := releaseRef{record: i}
	if subject, photo, ext, ok := splitReleased(r.Path); ok {
		u.subject, u.photo = uuidKey(subject), uuidKey(photo)
		copy(u.ext[:], ext)
	} else {
		t.oddPath[k] = r.Path
	}
	if isHex(r.SHA256, 64) {
		u.sha = hashKey(r.SHA256)
	} else {
		t.oddSHA[k] = r.SHA256
	}
	t.refs.add(u)
}

// path returns the path of entry k as the record logged it.
func (t *releaseTable) path(k int) string {
	if p, ok := t.oddPath[k]; ok {
		return p
	}
	u := t.refs.at(k)
	ext := u.ext[:]
	for len(ext) > 0 && ext[len(ext)-1] == 0 {
		ext = ext[:len(ext)-1]
	}
	return uuidString(u.subject) + "/" + uuidString(u.photo) + "." + string(ext)
}

// sha returns the released hash of entry k as the record logged it.
func (t *releaseTable) sha(k int) string {
	if s, ok := t.oddSHA[k]; ok {
		return s
	}
	return hex.EncodeToString(t.refs.at(k).sha[:])
}

// splitReleased splits a path of the form ingest writes,
// <subject>/<photo>.<ext>, with codes that uuidKey and uuidString carry
// unchanged.
func splitReleased(path string) (subject, photo, ext string, ok bool) {
	const n = 36 // a UUID
	if len(path) < n+1+n+2 || path[n] != '/' || path[2*n+1] != '.' {
		return "", "", "", false
	}
	subject, photo, ext = path[:n], path[n+1:2*n+1], path[2*n+2:]
	if !IsUUID(subject) || !IsUUID(photo) || !isToken(ext, 8, false) {
		return "", "", "", false
	}
	return subject, photo, ext, true
}

type verifier struct {
	opts VerifyOptions
	rep  *Report

	cp, pinned *Checkpoint
	cpMissing  bool
	n          int64 // records in the file
	treeBroken bool  // a line could not be hashed: no root can be computed
	rootAtCP   *tlog.Hash
	rootAtPin  *tlog.Hash
	rootAtEnd  *tlog.Hash
	hashesOK   bool  // stored hashes agree with the records as far as they go
	hashesUpTo int64 // records whose stored hashes were present and compared
	// hashMismatch is the first record whose stored hashes disagree (-1:
	// none); hashMismatchLeaf says it was the record's own leaf hash.
	hashMismatch     int64
	hashMismatchLeaf bool
	photos           map[[16]byte]int64 // photo code: the record that issued it
	subjects         map[[16]byte]struct{}
	blobRefs         *blobTable    // nil: no blob checks
	releaseRefs      *releaseTable // nil: no release checks
}

func (v *verifier) add(rec int64, c Check, object, format string, args ...any) {
	v.rep.add(Finding{Record: rec, Check: c, Object: object, Problem: fmt.Sprintf(format, args...)})
}

// checkpoints opens the log's checkpoint and the pinned one.
func (v *verifier) checkpoints() error {
	msg, err := os.ReadFile(filepath.Join(v.opts.LogDir, CheckpointFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.cpMissing = true
	case err != nil:
		return fmt.Errorf("manifest: verify: %w", err)
	default:
		c, err := OpenCheckpoint(msg, v.opts.Origin, v.opts.LogVerifier)
		if err != nil {
			v.add(-1, CheckCheckpoint, "checkpoint", "%v", err)
		} else {
			v.cp = &c
			v.rep.Checkpoint = &c
			v.rep.CheckpointNote = msg
		}
	}
	if v.opts.Pinned != nil {
		c, err := OpenCheckpoint(v.opts.Pinned, v.opts.Origin, v.opts.LogVerifier)
		if err != nil {
			v.add(-1, CheckPinned, "pinned checkpoint", "%v", err)
		} else {
			v.pinned = &c
			v.rep.Pinned = &c
		}
	}
	return nil
}

// frontier holds the roots of the complete subtrees of the records so far,
// largest first: enough to compute the tree hash at any size in O(log n)
// memory, and it yields the stored hashes in tlog's order.
type frontier struct {
	hashes []tlog.Hash
	sizes  []int64
}

// push adds a leaf and returns the stored hashes tlog writes for it: the leaf
// and the hash of each subtree it completes.
func (f *frontier) push(leaf tlog.Hash, out []tlog.Hash) []tlog.Hash {
	out = append(out[:0], leaf)
	f.hashes = append(f.hashes, leaf)
	f.sizes = append(f.sizes, 1)
	for k := len(f.sizes); k >= 2 && f.sizes[k-1] == f.sizes[k-2]; k-- {
		h := tlog.NodeHash(f.hashes[k-2], f.hashes[k-1])
		f.hashes[k-2] = h
		f.sizes[k-2] *= 2
		f.hashes = f.hashes[:k-1]
		f.sizes = f.sizes[:k-1]
		out = append(out, h)
	}
	return out
}

// emptyRoot is the tree hash of no records: SHA-256 of nothing (RFC 6962).
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// treeHash returns the tree hash of the leaves pushed so far (RFC 6962).
func (f *frontier) treeHash() tlog.Hash {
	if len(f.hashes) == 0 {
		return emptyRoot
	}
	h := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(f.hashes[i], h)
	}
	return h
}

// scan streams the records once: tree, stored hashes, schema, meaning.
func (v *verifier) scan(ctx context.Context) error {
	v.photos = make(map[[16]byte]int64)
	v.subjects = make(map[[16]byte]struct{})
	if v.opts.Blobs != nil {
		v.blobRefs = newBlobTable()
	}
	if v.opts.ReleaseDir != "" {
		v.releaseRefs = newReleaseTable()
	}
	var fr frontier
	v.checkRootAt(0, &fr)

	f, err := os.Open(filepath.Join(v.opts.LogDir, RecordsFile))
	if errors.Is(err, fs.ErrNotExist) {
		// A checkpoint that signs records reports their absence in tree.
		return nil
	}
	if err != nil {
		return fmt.Errorf("manifest: verify: %w", err)
	}
	defer f.Close()

	v.hashesOK = true
	var hashes *bufio.Reader
	if hf, err := os.Open(filepath.Join(v.opts.LogDir, HashesFile)); err == nil {
		defer hf.Close()
		hashes = bufio.NewReaderSize(hf, 1<<16)
	} else {
		v.hashesOK = false
	}

	lines := readLines(ctx, f, v.workers())
	var stored []tlog.Hash
	var have tlog.Hash
	i := int64(0)
	for c := range lines.order {
		<-c.done
		for k := range c.items {
			it := &c.items[k]
			if it.st == lineTorn {
				v.add(i, CheckRecord, "", "incomplete final line of %d bytes (an append was interrupted, and the next ingest removes it; if an ingest was running, verify again)", len(it.line))
				break
			}
			v.n++
			if it.st == lineTooLong {
				v.add(i, CheckRecord, "", "line longer than any record (%d bytes allowed)", MaxRecordSize)
				v.treeBroken = true
				i++
				continue
			}
			stored = fr.push(it.leaf, stored)
			if hashes != nil && v.hashesOK {
				for k, want := range stored {
					if _, err := io.ReadFull(hashes, have[:]); err != nil {
						hashes = nil // shorter: an append was interrupted before its hashes
						break
					}
					if have != want {
						v.hashesOK = false
						v.hashMismatch, v.hashMismatchLeaf = i, k == 0
						break
					}
				}
				if hashes != nil && v.hashesOK {
					v.hashesUpTo = i + 1
				}
			}
			v.checkRootAt(i+1, &fr)
			v.record(i, it)
			i++
		}
	}
	if err := lines.err(); err != nil {
		return err
	}
	if !v.treeBroken {
		h := fr.treeHash()
		v.rootAtEnd = &h
	}
	if hashes != nil && v.hashesOK {
		if _, err := hashes.ReadByte(); err == nil {
			v.hashesOK = false
			v.add(-1, CheckHashes, "hashes file", "holds hashes beyond the last record (records removed from the end?)")
		}
	}
	return nil
}

// item is one line of the records file, hashed and parsed by a worker.
type item struct {
	line []byte
	st   lineStatus
	leaf tlog.Hash
	rec  Record
	err  error
}

// chunk is a run of lines; done is closed when its items are processed.
type chunk struct {
	items []item
	done  chan struct{}
}

// lineFeed reads the records file ahead and hashes and parses lines in
// parallel, delivering chunks in file order: parsing is most of an audit's
// time, and only the tree has to be built in order.
type lineFeed struct {
	order chan *chunk
	mu    sync.Mutex
	e     error
}

func (l *lineFeed) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e
}

const chunkLines = 512

func readLines(ctx context.Context, r io.Reader, workers int) *lineFeed {
	feed := &lineFeed{order: make(chan *chunk, 2*workers)}
	jobs := make(chan *chunk, 2*workers)
	for range workers {
		go func() {
			for c := range jobs {
				for k := range c.items {
					it := &c.items[k]
					if it.st == lineOK {
						it.leaf = tlog.RecordHash(it.line)
						it.rec, it.err = Parse(it.line)
					}
				}
				close(c.done)
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(feed.order)
		lr := newLineReader(r)
		for {
			if err := ctx.Err(); err != nil {
				feed.mu.Lock()
				feed.e = err
				feed.mu.Unlock()
				return
			}
			c := &chunk{items: make([]item, 0, chunkLines), done: make(chan struct{})}
			var buf []byte
			eof := false
			for len(c.items) < chunkLines {
				line, st, err := lr.next()
				if errors.Is(err, io.EOF) {
					eof = true
					break
				}
				if err != nil {
					feed.mu.Lock()
					feed.e = fmt.Errorf("manifest: verify: %w", err)
					feed.mu.Unlock()
					eof = true
					break
				}
				// One copy per chunk: the reader's buffer is reused.
				off := len(buf)
				buf = append(buf, line...)
				c.items = append(c.items, item{line: buf[off:len(buf):len(buf)], st: st})
				if st == lineTorn {
					eof = true
					break
				}
			}
			// buf may have moved while growing: point the items at its final copy.
			off := 0
			for k := range c.items {
				n := len(c.items[k].line)
				c.items[k].line = buf[off : off+n : off+n]
				off += n
			}
			feed.order <- c
			jobs <- c
			if eof {
				return
			}
		}
	}()
	return feed
}

func (v *verifier) checkRootAt(n int64, fr *frontier) {
	if v.treeBroken {
		return
	}
	if v.cp != nil && v.cp.N == n {
		h := fr.treeHash()
		v.rootAtCP = &h
	}
	if v.pinned != nil && v.pinned.N == n {
		h := fr.treeHash()
		v.rootAtPin = &h
	}
}

// record checks one line's schema and what it says against earlier records.
func (v *verifier) record(i int64, it *item) {
	r, err := it.rec, it.err
	if err != nil {
		v.add(i, CheckRecord, "", "%v", err)
		v.registerDamaged(i, it.line)
		return
	}
	v.rep.Records++
	switch r := r.(type) {
	case *Ingest:
		v.rep.Photos++
		p, s := uuidKey(r.Photo), uuidKey(r.Subject)
		if prev, ok := v.photos[p]; ok {
			v.add(i, CheckRecord, "photo "+r.Photo, "code already used by record %d", prev)
		} else {
			v.photos[p] = i
		}
		if _, ok := v.subjects[s]; !ok {
			v.subjects[s] = struct{}{}
			v.rep.Subjects++
		}
		v.rep.Bytes += r.Blob.Size
		if v.blobRefs != nil {
			sha := hashKey(r.Blob.SHA256)
			if prev, ok := v.blobRefs.find(sha); ok {
				v.add(i, CheckBlob, "blob "+short(r.Blob.SHA256), "also referenced by record %d (a blob belongs to one photo)", prev.record)
			} else {
				v.blobRefs.add(i, sha, r.Blob.Size)
			}
		}
		if v.releaseRefs != nil {
			if k, ok := v.releaseRefs.find(r.Released.Path); ok {
				v.add(i, CheckRelease, "released file "+r.Released.Path, "also logged by record %d", v.releaseRefs.refs.at(k).record)
			} else {
				v.releaseRefs.add(i, r.Released)
			}
		}
	case *Duplicate:
		v.rep.Duplicates++
		if _, ok := v.photos[uuidKey(r.Of)]; !ok {
			v.add(i, CheckRecord, "duplicate", "of photo %s, which no earlier record ingested", r.Of)
		}
	case *Quarantine:
		v.rep.Quarantines++
	case *Access:
		v.rep.Accesses++
		if len(v.rep.AccessLog) < MaxFindings {
			v.rep.AccessLog = append(v.rep.AccessLog, AccessEvent{Record: i, Action: r.Action, Codes: r.Codes, Reason: r.Reason, Time: r.Time, Custodian: r.Custodian})
		}
		if err := VerifyAccess(r, v.opts.CustodianKeys); err != nil {
			v.add(i, CheckAccess, "access signature", "%v", err)
		}
		for _, c := range r.Codes {
			k := uuidKey(c)
			_, isPhoto := v.photos[k]
			_, isSubject := v.subjects[k]
			if !isPhoto && !isSubject {
				v.add(i, CheckRecord, "access", "names code %s, which no earlier record issued", c)
			}
		}
	}
}

// registerDamaged notes the photo, blob and released file that an invalid
// record still names, so that one bad record is one finding and not also an
// orphan blob, an unlogged file and a dangling duplicate.
func (v *verifier) registerDamaged(i int64, line []byte) {
	var r struct {
		Photo    string   `json:"photo"`
		Subject  string   `json:"subject"`
		Released Released `json:"released"`
		Blob     BlobInfo `json:"blob"`
	}
	json.Unmarshal(line, &r) // best effort: keep whatever decodes
	if IsUUID(r.Photo) {
		v.photos[uuidKey(r.Photo)] = i
	}
	if IsUUID(r.Subject) {
		v.subjects[uuidKey(r.Subject)] = struct{}{}
	}
	if v.blobRefs != nil && isHex(r.Blob.SHA256, 64) {
		if sha := hashKey(r.Blob.SHA256); !v.known(sha) {
			v.blobRefs.add(i, sha, r.Blob.Size)
		}
	}
	if v.releaseRefs != nil && r.Released.Path != "" {
		if _, ok := v.releaseRefs.find(r.Released.Path); !ok {
			v.releaseRefs.add(i, r.Released)
		}
	}
}

// known reports whether a record names the blob sha.
func (v *verifier) known(sha [32]byte) bool {
	_, ok := v.blobRefs.find(sha)
	return ok
}

// hashKey packs a hex SHA-256 (already checked to be 64 lowercase hex
// digits) into 32 bytes; hex.EncodeToString gives the same string back.
func hashKey(s string) [32]byte {
	var k [32]byte
	hex.Decode(k[:], []byte(s))
	return k
}

// uuidString is the inverse of uuidKey.
func uuidString(k [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], k[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], k[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], k[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], k[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], k[10:16])
	return string(b[:])
}

// uuidKey packs a UUID (already checked by Parse) into 16 bytes, which keeps
// the per-photo maps small on large logs.
func uuidKey(s string) [16]byte {
	var k [16]byte
	hex.Decode(k[0:4], []byte(s[0:8]))
	hex.Decode(k[4:6], []byte(s[9:13]))
	hex.Decode(k[6:8], []byte(s[14:18]))
	hex.Decode(k[8:10], []byte(s[19:23]))
	hex.Decode(k[10:16], []byte(s[24:36]))
	return k
}

// tree compares the records with the signed checkpoint and the pinned one.
func (v *verifier) tree() {
	v.catchUp()
	cpMatches := v.cp != nil && v.rootAtCP != nil && *v.rootAtCP == v.cp.Hash
	if i := v.hashMismatch; i >= 0 {
		switch {
		case cpMatches && i < v.cp.N:
			// The signed tree vouches for the records: the cache is what changed.
			v.add(-1, CheckHashes, "hashes file", "stored hashes of record %d are damaged (the records match the signed checkpoint; reopening the log rebuilds them)", i)
		case v.hashMismatchLeaf:
			v.add(i, CheckHashes, "", "content differs from the hash stored when it was appended (record changed, removed, inserted or moved)")
		default:
			v.add(i, CheckHashes, "", "stored subtree hash differs from the records (an earlier record changed, or the hashes file did)")
		}
	}
	if v.cpMissing && v.n > 0 {
		v.add(-1, CheckCheckpoint, "checkpoint", "missing, but the log has %d records", v.n)
	}
	if v.cp != nil {
		switch {
		case v.cp.N > v.n:
			v.add(-1, CheckCheckpoint, "checkpoint", "signs %d records but the log has only %d (records removed from the end)", v.cp.N, v.n)
		case v.treeBroken:
			v.add(-1, CheckCheckpoint, "checkpoint", "cannot recompute the tree: a record line is unreadable")
		case *v.rootAtCP != v.cp.Hash:
			v.add(-1, CheckCheckpoint, "checkpoint", "root hash %s does not match the tree of records 0..%d, which is %s (records changed, removed, inserted or reordered)",
				short(v.cp.Hash.String()), v.cp.N-1, short(v.rootAtCP.String()))
		}
		if v.cp.N < v.n {
			v.add(v.cp.N, CheckCheckpoint, "checkpoint", "records %d..%d are not covered by the signed checkpoint (appended without the log key, or a crash before signing, which the next ingest completes; if an ingest was running, verify again)", v.cp.N, v.n-1)
		}
	}
	if v.pinned == nil {
		return
	}
	p := v.pinned
	if v.cp != nil {
		if v.cp.N < p.N {
			v.add(-1, CheckPinned, "checkpoint", "signs %d records, fewer than the %d of the pinned checkpoint (rollback)", v.cp.N, p.N)
			return
		}
		if v.hashesOK && v.hashesUpTo >= v.cp.N {
			hr, err := openHashReader(v.opts.LogDir)
			if err == nil {
				defer hr.f.Close()
				var proof tlog.TreeProof
				if proof, err = tlog.ProveTree(v.cp.N, p.N, hr); err == nil {
					if err := tlog.CheckTree(proof, v.cp.N, v.cp.Hash, p.N, p.Hash); err != nil {
						v.forked(p)
					}
					return
				}
			}
			// No proof from the stored hashes: fall back to the records.
		}
	}
	switch {
	case v.n < p.N:
		v.add(-1, CheckPinned, "log", "has %d records, fewer than the %d of the pinned checkpoint (truncated or rolled back)", v.n, p.N)
	case v.rootAtPin == nil:
		v.add(-1, CheckPinned, "log", "cannot recompute the tree at the pinned size %d", p.N)
	case *v.rootAtPin != p.Hash:
		v.add(-1, CheckPinned, "log", "records 0..%d do not match the pinned checkpoint (fork or rewrite: root %s, pinned %s)",
			p.N-1, short(v.rootAtPin.String()), short(p.Hash.String()))
	}
}

// catchUp handles a writer appending while the audit ran: records beyond
// the checkpoint read at the start are fine if the checkpoint now signs
// exactly the records read, and the earlier one matched its prefix.
func (v *verifier) catchUp() {
	if v.cp == nil || v.cp.N >= v.n || v.rootAtEnd == nil || v.rootAtCP == nil || *v.rootAtCP != v.cp.Hash {
		return
	}
	msg, err := os.ReadFile(filepath.Join(v.opts.LogDir, CheckpointFile))
	if err != nil {
		return
	}
	c, err := OpenCheckpoint(msg, v.opts.Origin, v.opts.LogVerifier)
	if err != nil || c.N != v.n || c.Hash != *v.rootAtEnd {
		return
	}
	v.cp, v.rootAtCP = &c, v.rootAtEnd
	v.rep.Checkpoint, v.rep.CheckpointNote = &c, msg
}

// forked reports a signed checkpoint that is not an extension of the pinned
// one: two histories signed with the log key.
func (v *verifier) forked(p *Checkpoint) {
	if v.cp.N == p.N {
		v.add(-1, CheckPinned, "checkpoint", "root hash %s differs from the pinned checkpoint of the same size %d, %s (fork: the log key signed two histories)",
			short(v.cp.Hash.String()), p.N, short(p.Hash.String()))
		return
	}
	v.add(-1, CheckPinned, "checkpoint", "size %d does not extend the pinned checkpoint of size %d (fork: the log key signed two histories)", v.cp.N, p.N)
}

func openHashReader(dir string) (*hashFile, error) {
	f, err := os.Open(filepath.Join(dir, HashesFile))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &hashFile{f: f, n: st.Size() / tlog.HashSize}, nil
}

func (v *verifier) workers() int {
	if v.opts.Workers > 0 {
		return v.opts.Workers
	}
	return runtime.NumCPU()
}

// hashJob is one file to check. Jobs are built only as they are run, from
// the compact per-record state: holding a path and names for every record at
// once would cost more than all the rest of an audit.
type hashJob struct {
	record int64
	object string
	path   string
	sha    string
	size   int64 // -1: not checked
}

// hashFiles checks files in parallel and adds findings in job order. job(k)
// returns job k of n, or false if there is nothing to check for k; it is
// called in order, from one goroutine.
func (v *verifier) hashFiles(ctx context.Context, n int, job func(k int) (hashJob, bool), missing string) error {
	type numbered struct {
		k int
		j hashJob
	}
	// Only the few jobs with findings keep a result, by job number.
	results := make(map[int][]Finding)
	var wg sync.WaitGroup
	next := make(chan numbered)
	var firstErr error
	var mu sync.Mutex
	for range v.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range next {
				fs, err := checkFile(x.j, missing)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if len(fs) > 0 {
					results[x.k] = fs
				}
				mu.Unlock()
			}
		}()
	}
	for k := range n {
		if ctx.Err() != nil {
			break
		}
		if j, ok := job(k); ok {
			next <- numbered{k, j}
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("manifest: verify: %w", firstErr)
	}
	done := make([]int, 0, len(results))
	for k := range results {
		done = append(done, k)
	}
	sort.Ints(done)
	for _, k := range done {
		for _, f := range results[k] {
			v.rep.add(f)
		}
	}
	return nil
}

func checkFile(j hashJob, missing string) ([]Finding, error) {
	bad := func(format string, args ...any) []Finding {
		return []Finding{{Record: j.record, Check: CheckBlob, Object: j.object, Problem: fmt.Sprintf(format, args...)}}
	}
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return bad("%s", missing), nil
	}
	if err != nil {
		return bad("cannot read: %v", err), nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return bad("not a regular file"), nil
	}
	var out []Finding
	if j.size >= 0 && st.Size() != j.size {
		out = append(out, bad("size %d bytes, logged %d", st.Size(), j.size)...)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return bad("cannot read: %v", err), nil
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != j.sha {
		out = append(out, bad("content hash %s, logged %s", short(got), short(j.sha))...)
	}
	return out, nil
}

// blobs checks every logged blob and looks for blobs no record names.
func (v *verifier) blobs(ctx context.Context) error {
	// blobRefs is in record order, the order findings are reported in.
	refs := &v.blobRefs.refs
	err := v.hashFiles(ctx, refs.len(), func(k int) (hashJob, bool) {
		b := refs.at(k)
		h := hex.EncodeToString(b.sha[:])
		return hashJob{record: b.record, object: "blob " + short(h), path: v.opts.Blobs.BlobPath(h), sha: h, size: b.size}, true
	}, "missing")
	if err != nil {
		return err
	}
	var orphans []string
	err = v.opts.Blobs.WalkBlobs(func(hash string, size int64) error {
		if !v.logged(hash) {
			orphans = append(orphans, hash)
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("manifest: verify: blobs: %w", err)
	}
	// The release checks do not need the blobs: let them have the memory.
	v.blobRefs = nil
	sort.Strings(orphans)
	for _, h := range orphans {
		v.add(-1, CheckBlob, "blob "+short(h), "no record references it (orphan)")
	}
	return nil
}

// logged reports whether a record names the blob the vault lists as hash.
// A name that is not lowercase hex is no logged hash.
func (v *verifier) logged(hash string) bool {
	return isHex(hash, 64) && v.known(hashKey(hash))
}

// IndexFile is the release folder's index, written by ingest and not itself
// logged.
const IndexFile = "index.csv"

// release checks that the release folder holds exactly the logged files.
func (v *verifier) release(ctx context.Context) error {
	var unlogged []Finding
	root := v.opts.ReleaseDir
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		if rel == IndexFile {
			return nil
		}
		k, ok := v.releaseRefs.find(rel)
		if !ok {
			unlogged = append(unlogged, Finding{Record: -1, Check: CheckRelease, Object: "released file " + rel, Problem: "not in the log (added without a record)"})
			return nil
		}
		u := v.releaseRefs.refs.at(k)
		if !d.Type().IsRegular() {
			u.state = releaseOdd
			unlogged = append(unlogged, Finding{Record: u.record, Check: CheckRelease, Object: "released file " + rel, Problem: "not a regular file"})
			return nil
		}
		u.state = releaseRegular
		return nil
	})
	if err != nil {
		return fmt.Errorf("manifest: verify: release: %w", err)
	}
	// releaseRefs is in record order, the order findings are reported in.
	var missing []Finding
	t := v.releaseRefs
	for k := range t.refs.len() {
		if u := t.refs.at(k); u.state == releaseUnseen {
			missing = append(missing, Finding{Record: u.record, Check: CheckRelease, Object: "released file " + t.path(k), Problem: "missing"})
		}
	}
	before := len(v.rep.Findings)
	err = v.hashFiles(ctx, t.refs.len(), func(k int) (hashJob, bool) {
		u := t.refs.at(k)
		if u.state != releaseRegular {
			return hashJob{}, false
		}
		rel := t.path(k)
		// The path WalkDir gave: it joins the root and the names the same way.
		path := filepath.Join(root, filepath.FromSlash(rel))
		return hashJob{record: u.record, object: "released file " + rel, path: path, sha: t.sha(k), size: -1}, true
	}, "missing")
	if err != nil {
		return err
	}
	for k := before; k < len(v.rep.Findings); k++ {
		v.rep.Findings[k].Check = CheckRelease
	}
	for _, f := range missing {
		v.rep.add(f)
	}
	sort.Slice(unlogged, func(a, b int) bool { return unlogged[a].Object < unlogged[b].Object })
	for _, f := range unlogged {
		v.rep.add(f)
	}
	return nil
}
