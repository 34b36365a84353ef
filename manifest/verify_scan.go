package manifest

// The scan phase: one pass over the records, in order, building the tree,
// comparing the stored hashes and checking each record.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/tlog"
)

// scan streams the records once: tree, stored hashes, schema, meaning.
func (v *verifier) scan(ctx context.Context) error {
	v.photos = make(map[code.Code]int64)
	v.subjects = make(map[code.Code]struct{})
	v.signatures = make(map[string]int64)
	var fr frontier
	v.checkRootAt(0, &fr)

	f, err := openLogFile(filepath.Join(v.opts.LogDir, RecordsFile))
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
	if hf, err := openLogFile(filepath.Join(v.opts.LogDir, HashesFile)); err == nil {
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
			// A custodian-signed record names the tree it extends: the
			// root before its own leaf.
			var before *tlog.Hash
			if it.err == nil && !v.treeBroken {
				switch it.rec.(type) {
				case *Access, *Config:
					h := fr.treeHash()
					before = &h
				}
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
			v.record(i, it, before)
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
