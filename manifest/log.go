package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/veil-photo/veil/internal/atomicfile"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Log is the log open for appending. The caller holds the vault lock: Log
// assumes it is the only writer.
type Log struct {
	dir    string
	origin string
	signer note.Signer

	records *os.File
	hashes  *hashFile
	pending *os.File // PendingFile
	n       int64    // committed records
	size    int64    // bytes of committed records
	err     error    // set when a failed append left the files in doubt
}

// ErrInconsistent is wrapped by Open when the files contradict each other in
// a way no crash can produce (the log was damaged or tampered with). Open
// then changes nothing; veil verify names the damage.
var ErrInconsistent = errors.New("log files are inconsistent")

// UnprovenError is returned by Open when the log holds records that no
// checkpoint of this log key covers and no pending note of this host names:
// someone else wrote them, or removed the checkpoint. Open signs nothing and
// changes nothing; it wraps ErrInconsistent.
type UnprovenError struct {
	Record int64  // the first record this host cannot account for
	Why    string // what is missing
}

func (e *UnprovenError) Error() string {
	return fmt.Sprintf("%v: record %d was not written by this host's log key (%s); nothing was signed — run veil verify and find out who wrote it", ErrInconsistent, e.Record, e.Why)
}

func (e *UnprovenError) Unwrap() error { return ErrInconsistent }

// Open opens (creating if needed) the log in dir for appending, after
// recovering from an interrupted append: it truncates a torn final record
// line, recomputes stored hashes that were not written, and re-signs the
// checkpoint if it lags behind the committed records — but only over records
// the pending note of this host's last append names (see PendingFile);
// anything else is an *UnprovenError.
func Open(dir, origin string, signer note.Signer) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	l := &Log{dir: dir, origin: origin, signer: signer}
	var err error
	l.records, err = os.OpenFile(filepath.Join(dir, RecordsFile), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	hf, err := os.OpenFile(filepath.Join(dir, HashesFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		l.records.Close()
		return nil, fmt.Errorf("manifest: %w", err)
	}
	l.hashes = &hashFile{f: hf}
	l.pending, err = os.OpenFile(filepath.Join(dir, PendingFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("manifest: %w", err)
	}
	for _, f := range []*os.File{l.records, hf, l.pending} {
		if err := checkOpened(f); err != nil {
			l.Close()
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	if err := l.recover(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Size returns the number of committed records.
func (l *Log) Size() int64 { return l.n }

// Dir returns the log directory.
func (l *Log) Dir() string { return l.dir }

// RecordsSize returns the length in bytes of the committed records.
func (l *Log) RecordsSize() int64 { return l.size }

// Close closes the log files.
func (l *Log) Close() error {
	err := l.records.Close()
	if herr := l.hashes.f.Close(); err == nil {
		err = herr
	}
	if l.pending != nil {
		if perr := l.pending.Close(); err == nil {
			err = perr
		}
	}
	return err
}

func (l *Log) recover() error {
	// Stored hashes: whole hashes only, and only complete records' worth.
	st, err := l.hashes.f.Stat()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	count := st.Size() / tlog.HashSize
	hashed := recordsForHashCount(count)
	l.hashes.n = tlog.StoredHashCount(hashed)
	if st.Size() != l.hashes.n*tlog.HashSize {
		if err := l.hashes.f.Truncate(l.hashes.n * tlog.HashSize); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
	}

	// Records: count complete lines, hashing those the hashes file lacks.
	if _, err := l.records.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	lr := newLineReader(l.records)
	var leaves []tlog.Hash
	for {
		start := lr.off
		line, status, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if status == lineTorn {
			// The append never reached its fsync, so its caller never
			// saw success and still holds the source: drop it.
			if err := l.records.Truncate(start); err != nil {
				return fmt.Errorf("manifest: truncate torn record: %w", err)
			}
			if err := l.records.Sync(); err != nil {
				return fmt.Errorf("manifest: %w", err)
			}
			break
		}
		if status == lineTooLong {
			return fmt.Errorf("manifest: %w: record %d is longer than any record", ErrInconsistent, l.n)
		}
		if l.n >= hashed {
			leaves = append(leaves, tlog.RecordHash(line))
			if len(leaves) >= 4096 {
				if err := l.hashes.appendLeaves(l.n+1-int64(len(leaves)), leaves); err != nil {
					return err
				}
				leaves = leaves[:0]
			}
		}
		l.n++
		l.size = lr.off
	}
	if l.n < hashed {
		return fmt.Errorf("manifest: %w: %d records but stored hashes for %d", ErrInconsistent, l.n, hashed)
	}
	if err := l.hashes.appendLeaves(l.n-int64(len(leaves)), leaves); err != nil {
		return err
	}
	if err := l.hashes.f.Sync(); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}

	// Checkpoint: refuse if it is not this log key's or claims more than
	// is here; re-sign if it lags, over records this host proves it wrote.
	cur, err := l.readCheckpoint()
	if errors.Is(err, fs.ErrNotExist) {
		if l.n == 0 {
			return l.writeCheckpoint()
		}
		// No crash removes a checkpoint (it is replaced by rename); only a
		// pending note of the very first batch can vouch for records then.
		cur = Checkpoint{Origin: l.origin}
		if cur.Hash, err = tlog.TreeHash(0, l.hashes); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		return l.complete(cur, "log/checkpoint is missing")
	}
	if err != nil {
		return fmt.Errorf("manifest: %w: checkpoint: %v", ErrInconsistent, err)
	}
	if cur.Origin != l.origin {
		return fmt.Errorf("manifest: %w: checkpoint origin %q, want %q", ErrInconsistent, cur.Origin, l.origin)
	}
	if cur.N > l.n {
		return fmt.Errorf("manifest: %w: checkpoint signs %d records, only %d present", ErrInconsistent, cur.N, l.n)
	}
	root, err := tlog.TreeHash(cur.N, l.hashes)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if root != cur.Hash {
		return fmt.Errorf("manifest: %w: checkpoint root does not match records 0..%d", ErrInconsistent, cur.N-1)
	}
	if cur.N < l.n {
		return l.complete(cur, "the checkpoint does not cover it")
	}
	return nil
}

// complete signs a checkpoint over the records after cur if this host's
// pending note names each of them, and returns an *UnprovenError otherwise.
func (l *Log) complete(cur Checkpoint, why string) error {
	p, ok := readPending(l.pending, l.origin, l.signer)
	if !ok || p.base != cur.N {
		return &UnprovenError{Record: cur.N, Why: why + ", and no pending note of this host names it"}
	}
	for i := cur.N; i < l.n; i++ {
		if i-p.base >= int64(len(p.leaves)) {
			return &UnprovenError{Record: i, Why: why + ", and it is not in this host's last batch"}
		}
		hs, err := l.hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if hs[0] != p.leaves[i-p.base] {
			return &UnprovenError{Record: i, Why: why + ", and it differs from what this host appended"}
		}
	}
	return l.writeCheckpoint()
}

// readCheckpoint reads the checkpoint file and checks that it is exactly
// what this log key signs for its body.
func (l *Log) readCheckpoint() (Checkpoint, error) {
	path := filepath.Join(l.dir, CheckpointFile)
	msg, err := readLogFile(path)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := readCheckpointBody(msg)
	if err != nil {
		return Checkpoint{}, err
	}
	if !signedBy(msg, c.Text(), l.signer) {
		return Checkpoint{}, errors.New("not signed by this vault's log key")
	}
	return c, nil
}

// recordsForHashCount returns the largest n with StoredHashCount(n) <= count.
func recordsForHashCount(count int64) int64 {
	// StoredHashCount(n) >= n, so n <= count.
	return int64(sort.Search(int(count)+1, func(n int) bool {
		return tlog.StoredHashCount(int64(n)) > count
	})) - 1
}

// readCheckpointBody parses the body of a signed checkpoint without
// checking its signature.
func readCheckpointBody(msg []byte) (Checkpoint, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, ErrMalformedCheckpoint
	}
	return ParseCheckpoint(msg[:i+1])
}

// Append commits recs to the log and returns the index of the first. The
// records are written and fsynced (the commit point), then their stored
// hashes, then a new signed checkpoint replaces the old one atomically. A
// batch is one fsync of each file, which is what makes group commit cheap.
func (l *Log) Append(recs []Record) (int64, error) {
	if l.err != nil {
		return 0, l.err
	}
	if len(recs) == 0 {
		return l.n, nil
	}
	var buf bytes.Buffer
	leaves := make([]tlog.Hash, 0, len(recs))
	for i, r := range recs {
		b, err := Marshal(r)
		if err != nil {
			return 0, fmt.Errorf("manifest: append: record %d of batch: %w", i, err)
		}
		leaves = append(leaves, tlog.RecordHash(b))
		buf.Write(b)
		buf.WriteByte('\n')
	}
	first := l.n
	if err := writePending(l.pending, pending{origin: l.origin, base: first, leaves: leaves}, l.signer); err != nil {
		return 0, l.fail(err)
	}
	if _, err := l.records.Write(buf.Bytes()); err != nil {
		return 0, l.fail(fmt.Errorf("manifest: append: %w", err))
	}
	if err := l.records.Sync(); err != nil {
		return 0, l.fail(fmt.Errorf("manifest: append: %w", err))
	}
	// Committed. What follows is derived and recoverable by Open.
	l.n += int64(len(recs))
	l.size += int64(buf.Len())
	if err := l.hashes.appendLeaves(first, leaves); err != nil {
		return first, l.fail(err)
	}
	if err := l.hashes.f.Sync(); err != nil {
		return first, l.fail(fmt.Errorf("manifest: append: %w", err))
	}
	if err := l.writeCheckpoint(); err != nil {
		return first, l.fail(err)
	}
	return first, nil
}

// fail poisons the log after an error that may have left a partial write:
// only Open's recovery knows what is on disk now.
func (l *Log) fail(err error) error {
	l.err = fmt.Errorf("manifest: log needs reopening after an earlier error: %w", err)
	return err
}

func (l *Log) writeCheckpoint() error {
	root, err := tlog.TreeHash(l.n, l.hashes)
	if err != nil {
		return fmt.Errorf("manifest: checkpoint: %w", err)
	}
	msg, err := SignCheckpoint(Checkpoint{Origin: l.origin, N: l.n, Hash: root}, l.signer)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(l.dir, CheckpointFile), msg, 0o644); err != nil {
		return fmt.Errorf("manifest: checkpoint: %w", err)
	}
	return nil
}

// Checkpoint returns the checkpoint of the committed records.
func (l *Log) Checkpoint() (Checkpoint, error) { return l.CheckpointAt(l.n) }

// CheckpointAt returns the checkpoint of the first n committed records: a
// writer compares it with one it saved earlier to tell a log that extends
// what it wrote from one rolled back or replaced since.
func (l *Log) CheckpointAt(n int64) (Checkpoint, error) {
	if n < 0 || n > l.n {
		return Checkpoint{}, fmt.Errorf("manifest: checkpoint at %d: the log has %d records", n, l.n)
	}
	root, err := tlog.TreeHash(n, l.hashes)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("manifest: %w", err)
	}
	return Checkpoint{Origin: l.origin, N: n, Hash: root}, nil
}

// hashFile is a tlog.HashReader over the stored hashes file, read with
// ReadAt so that memory stays bounded whatever the log's size, plus the
// hashes of the batch being appended.
type hashFile struct {
	f       *os.File
	n       int64 // hashes on disk
	pending []tlog.Hash
}

// ReadHashes implements tlog.HashReader.
func (h *hashFile) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		switch {
		case x < 0:
			return nil, fmt.Errorf("manifest: stored hash %d: negative index", x)
		case x < h.n:
			if _, err := h.f.ReadAt(out[i][:], x*tlog.HashSize); err != nil {
				return nil, fmt.Errorf("manifest: stored hash %d: %w", x, err)
			}
		case x-h.n < int64(len(h.pending)):
			out[i] = h.pending[x-h.n]
		default:
			return nil, fmt.Errorf("manifest: stored hash %d: not written yet", x)
		}
	}
	return out, nil
}

// appendLeaves computes and writes the stored hashes of records
// first..first+len(leaves)-1, whose predecessors' hashes are all stored.
func (h *hashFile) appendLeaves(first int64, leaves []tlog.Hash) error {
	if len(leaves) == 0 {
		return nil
	}
	if want := tlog.StoredHashCount(first); want != h.n {
		return fmt.Errorf("manifest: stored hashes: have %d, want %d before record %d", h.n, want, first)
	}
	h.pending = h.pending[:0]
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashesForRecordHash(first+int64(i), leaf, h)
		if err != nil {
			return fmt.Errorf("manifest: stored hashes: %w", err)
		}
		h.pending = append(h.pending, hs...)
	}
	buf := make([]byte, 0, len(h.pending)*tlog.HashSize)
	for _, x := range h.pending {
		buf = append(buf, x[:]...)
	}
	if _, err := h.f.WriteAt(buf, h.n*tlog.HashSize); err != nil {
		return fmt.Errorf("manifest: stored hashes: %w", err)
	}
	h.n += int64(len(h.pending))
	h.pending = h.pending[:0]
	return nil
}
