// Package stats summarises a vault from its log: counts, sizes, the signed
// checkpoint and the last access event. Everything it returns is public (an
// auditor reads the same in the log); nothing is decrypted, verified in full
// or written. veil verify is the audit; stats is the quick look an operator or
// a monitoring job takes.
package stats

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Stats is the public summary of a vault's log.
type Stats struct {
	Records     int64 // records in the log
	Photos      int64 // ingest records
	Subjects    int64 // distinct subject codes
	Duplicates  int64 // duplicate records
	Quarantines int64 // quarantine records (files set aside, ever; not what is in quarantine now)
	Accesses    int64 // access records (reveal, restore, find)
	BlobBytes   int64 // encrypted originals, as logged (ciphertext sizes)
	LogBytes    int64 // size of the records file

	// Checkpoint is the signed checkpoint, or nil if the log has none yet.
	Checkpoint *Checkpoint
	// LastAccess is the last access record, or nil if there is none.
	LastAccess *Access
}

// Checkpoint is the log's signed checkpoint, verified with the vault's own
// log key (which proves it was signed by the ingest host, not that the vault
// was not rewritten: that needs an auditor's pinned keys and veil verify).
type Checkpoint struct {
	Size    int64     // records it covers
	Root    string    // base64 root hash, as in the signed note
	Written time.Time // modification time of the checkpoint file: when it was last signed
	Covers  bool      // Size equals the records in the log (false: an append in progress, or damage)
}

// Access is the public part of an access record that stats reports. The
// codes and the reason are left out on purpose: the reason is free text a
// custodian types and may, against advice, name a patient, and stats output
// goes to monitoring and mail; an auditor reads both with veil verify.
type Access struct {
	Record int64
	Action string // manifest.ActionReveal, ActionRestore or ActionFind
	Codes  int    // how many codes it named
	Time   time.Time
}

// ErrCheckpointSignature is wrapped when the checkpoint does not verify with
// the vault's own log key.
var ErrCheckpointSignature = errors.New("the checkpoint's signature does not verify")

// Read summarises the vault v in one pass over its log. It decodes every
// record with manifest.Parse, as any reader of the log must, but does not
// recompute the Merkle tree or check access signatures: a damaged record is
// an error here, and a finding only veil verify can name.
func Read(ctx context.Context, v *vault.Vault) (*Stats, error) {
	s := &Stats{}
	dir := v.LogDir()
	cp, err := readCheckpoint(v)
	if err != nil {
		return nil, err
	}
	s.Checkpoint = cp
	subjects := map[code.Code]struct{}{}
	err = manifest.Scan(dir, func(i int64, line []byte) error {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("stats: record %d: %w (run veil verify)", i, err)
		}
		s.Records++
		s.LogBytes += int64(len(line)) + 1
		switch r := r.(type) {
		case *manifest.Ingest:
			s.Photos++
			s.BlobBytes += r.Blob.Size
			if c, err := code.Parse(r.Subject); err == nil {
				subjects[c] = struct{}{}
			}
		case *manifest.Duplicate:
			s.Duplicates++
		case *manifest.Quarantine:
			s.Quarantines++
		case *manifest.Access:
			s.Accesses++
			s.LastAccess = &Access{Record: i, Action: r.Action, Codes: len(r.Codes), Time: r.Time}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Subjects = int64(len(subjects))
	if s.Checkpoint != nil {
		s.Checkpoint.Covers = s.Checkpoint.Size == s.Records
	}
	return s, nil
}

// readCheckpoint opens the signed checkpoint with the vault's log key. A
// checkpoint that does not verify is reported, not summarised: its numbers
// would be whatever someone wrote.
func readCheckpoint(v *vault.Vault) (*Checkpoint, error) {
	path := filepath.Join(v.LogDir(), manifest.CheckpointFile)
	msg, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	lv, err := v.LogVerifier()
	if err != nil {
		return nil, err
	}
	c, err := manifest.OpenCheckpoint(msg, v.Origin(), lv)
	if err != nil {
		return nil, fmt.Errorf("stats: %s: %w: %w (run veil verify)", path, ErrCheckpointSignature, err)
	}
	return &Checkpoint{Size: c.N, Root: base64.StdEncoding.EncodeToString(c.Hash[:]), Written: fi.ModTime().UTC()}, nil
}
