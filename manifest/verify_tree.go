package manifest

// The tree phase: the signed checkpoint, the auditor's pinned one, and the
// Merkle tree of the records they commit to.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"
)

// checkpoints opens the log's checkpoint and the pinned one.
func (v *verifier) checkpoints() error {
	msg, err := readLogFile(filepath.Join(v.opts.LogDir, CheckpointFile))
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
	msg, err := readLogFile(filepath.Join(v.opts.LogDir, CheckpointFile))
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
	f, err := openLogFile(filepath.Join(dir, HashesFile))
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
