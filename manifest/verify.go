package manifest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions says what to verify and with which keys. The keys should
// come from the auditor's pinned auditor.pub, not from the vault under audit.
type VerifyOptions struct {
	LogDir        string              // the vault's log directory
	Origin        string              // the log's origin line, "veil/<vault id>"
	LogVerifier   note.Verifier       // verifies the checkpoint signature
	CustodianKeys []ed25519.PublicKey // keys allowed to sign access records
	Pinned        []byte              // a signed checkpoint from an earlier audit, or nil
	Workers       int                 // parallel parsing; 0 means one per core

	// Ingests, if set, is called in record order, from one goroutine, with
	// every ingest record, so that an audit of the files the log names
	// (blobs, released photos) needs no second pass over a large log. An
	// invalid record is passed too (damaged true), with whatever of its
	// fields decode: it still names a blob and a released file, and one bad
	// record should be one finding, not also an orphan blob and an unlogged
	// file. The findings it returns are reported at that record.
	Ingests func(i int64, r *Ingest, damaged bool) []Finding
}

// Check names the kind of check a finding comes from.
type Check string

// The checks of Verify.
const (
	CheckCheckpoint Check = "checkpoint" // the signed checkpoint and the tree it commits to
	CheckPinned     Check = "pinned"     // consistency with the auditor's pinned checkpoint
	CheckRecord     Check = "record"     // the record's schema and meaning
	CheckHashes     Check = "hashes"     // the stored hash cache against the records
	CheckAccess     Check = "access"     // custodian signatures on access records, and their places
	CheckConfig     Check = "config"     // the chain of config records (the vault's public keys)
)

// Finding is one problem an audit found.
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

	// Config is the latest valid config record, the public keys in effect
	// at the end of the log, and ConfigRecord its index; nil for a log with
	// none (a vault made before config records).
	Config       *Config
	ConfigRecord int64
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

// Add appends a finding, or counts it in Omitted once MaxFindings are kept:
// an audit of a ruined vault must not hold millions of findings.
func (r *Report) Add(f Finding) {
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

// Verify audits the log: the signed checkpoint and the tree it commits to,
// consistency with a pinned checkpoint, the stored hashes, every record's
// schema and meaning and every access record's signature. Damage is
// reported as findings in the report; the error is for an audit that could
// not run (I/O errors, cancellation). The files the log names are audited
// above this package (package audit), through opts.Ingests.
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
	v.photos, v.subjects = nil, nil // only the scan needs them
	v.tree()
	return v.rep, nil
}

// verifier is the state of one Verify: what the checkpoint phase opened,
// what the scan of the records found, and what the tree phase compares.
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
	// photos and subjects are the codes issued so far, as bytes rather than
	// strings to keep them small on a large log: photo code to the record
	// that issued it.
	photos   map[code.Code]int64
	subjects map[code.Code]struct{}
	// signatures maps each custodian signature seen to its record.
	signatures map[string]int64
}

func (v *verifier) add(rec int64, c Check, object, format string, args ...any) {
	v.rep.Add(Finding{Record: rec, Check: c, Object: object, Problem: fmt.Sprintf(format, args...)})
}

func (v *verifier) workers() int {
	if v.opts.Workers > 0 {
		return v.opts.Workers
	}
	return runtime.NumCPU()
}
