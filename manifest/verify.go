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

type photoInfo struct {
	record  int64
	subject [16]byte
}

type blobUse struct {
	record int64
	size   int64
}

type releaseUse struct {
	record int64
	sha    string
	seen   bool
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
	photos           map[[16]byte]photoInfo
	subjects         map[[16]byte]struct{}
	blobRefs         map[string]blobUse
	releaseRefs      map[string]*releaseUse
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
	v.photos = make(map[[16]byte]photoInfo)
	v.subjects = make(map[[16]byte]struct{})
	if v.opts.Blobs != nil {
		v.blobRefs = make(map[string]blobUse)
	}
	if v.opts.ReleaseDir != "" {
		v.releaseRefs = make(map[string]*releaseUse)
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
			v.add(i, CheckRecord, "photo "+r.Photo, "code already used by record %d", prev.record)
		} else {
			v.photos[p] = photoInfo{record: i, subject: s}
		}
		if _, ok := v.subjects[s]; !ok {
			v.subjects[s] = struct{}{}
			v.rep.Subjects++
		}
		v.rep.Bytes += r.Blob.Size
		if v.blobRefs != nil {
			if prev, ok := v.blobRefs[r.Blob.SHA256]; ok {
				v.add(i, CheckBlob, "blob "+short(r.Blob.SHA256), "also referenced by record %d (a blob belongs to one photo)", prev.record)
			} else {
				v.blobRefs[r.Blob.SHA256] = blobUse{record: i, size: r.Blob.Size}
			}
		}
		if v.releaseRefs != nil {
			if prev, ok := v.releaseRefs[r.Released.Path]; ok {
				v.add(i, CheckRelease, "released file "+r.Released.Path, "also logged by record %d", prev.record)
			} else {
				v.releaseRefs[r.Released.Path] = &releaseUse{record: i, sha: r.Released.SHA256}
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
		v.photos[uuidKey(r.Photo)] = photoInfo{record: i}
	}
	if IsUUID(r.Subject) {
		v.subjects[uuidKey(r.Subject)] = struct{}{}
	}
	if _, ok := v.blobRefs[r.Blob.SHA256]; !ok && v.blobRefs != nil && isHex(r.Blob.SHA256, 64) {
		v.blobRefs[r.Blob.SHA256] = blobUse{record: i, size: r.Blob.Size}
	}
	if _, ok := v.releaseRefs[r.Released.Path]; !ok && v.releaseRefs != nil && r.Released.Path != "" {
		v.releaseRefs[r.Released.Path] = &releaseUse{record: i, sha: r.Released.SHA256}
	}
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

type hashJob struct {
	record int64
	object string
	path   string
	sha    string
	size   int64 // -1: not checked
}

// hashFiles checks files in parallel and adds findings in job order.
func (v *verifier) hashFiles(ctx context.Context, jobs []hashJob, missing string) error {
	results := make([][]Finding, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	var firstErr error
	var mu sync.Mutex
	for range v.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fs, err := checkFile(jobs[k], missing)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
				results[k] = fs
			}
		}()
	}
	for k := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- k
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("manifest: verify: %w", firstErr)
	}
	for _, fs := range results {
		for _, f := range fs {
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
	jobs := make([]hashJob, 0, len(v.blobRefs))
	for h, u := range v.blobRefs {
		jobs = append(jobs, hashJob{record: u.record, object: "blob " + short(h), path: v.opts.Blobs.BlobPath(h), sha: h, size: u.size})
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].record < jobs[b].record })
	if err := v.hashFiles(ctx, jobs, "missing"); err != nil {
		return err
	}
	var orphans []string
	err := v.opts.Blobs.WalkBlobs(func(hash string, size int64) error {
		if _, ok := v.blobRefs[hash]; !ok {
			orphans = append(orphans, hash)
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("manifest: verify: blobs: %w", err)
	}
	sort.Strings(orphans)
	for _, h := range orphans {
		v.add(-1, CheckBlob, "blob "+short(h), "no record references it (orphan)")
	}
	return nil
}

// IndexFile is the release folder's index, written by ingest and not itself
// logged.
const IndexFile = "index.csv"

// release checks that the release folder holds exactly the logged files.
func (v *verifier) release(ctx context.Context) error {
	var jobs []hashJob
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
		u, ok := v.releaseRefs[rel]
		if !ok {
			unlogged = append(unlogged, Finding{Record: -1, Check: CheckRelease, Object: "released file " + rel, Problem: "not in the log (added without a record)"})
			return nil
		}
		u.seen = true
		if !d.Type().IsRegular() {
			unlogged = append(unlogged, Finding{Record: u.record, Check: CheckRelease, Object: "released file " + rel, Problem: "not a regular file"})
			return nil
		}
		jobs = append(jobs, hashJob{record: u.record, object: "released file " + rel, path: path, sha: u.sha, size: -1})
		return nil
	})
	if err != nil {
		return fmt.Errorf("manifest: verify: release: %w", err)
	}
	var missing []Finding
	for rel, u := range v.releaseRefs {
		if !u.seen {
			missing = append(missing, Finding{Record: u.record, Check: CheckRelease, Object: "released file " + rel, Problem: "missing"})
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].record < jobs[b].record })
	before := len(v.rep.Findings)
	if err := v.hashFiles(ctx, jobs, "missing"); err != nil {
		return err
	}
	for k := before; k < len(v.rep.Findings); k++ {
		v.rep.Findings[k].Check = CheckRelease
	}
	sort.Slice(missing, func(a, b int) bool { return missing[a].Record < missing[b].Record })
	for _, f := range missing {
		v.rep.add(f)
	}
	sort.Slice(unlogged, func(a, b int) bool { return unlogged[a].Object < unlogged[b].Object })
	for _, f := range unlogged {
		v.rep.add(f)
	}
	return nil
}
