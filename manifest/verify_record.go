package manifest

// The meaning of each record against the records before it: codes issued
// once, duplicates and reversals of codes that exist, custodian signatures.

import (
	"crypto/ed25519"
	"encoding/json"

	"github.com/veil-photo/veil/internal/code"
	"golang.org/x/mod/sumdb/tlog"
)

// record checks one line's schema and what it says against earlier records.
// before is the tree root of the records before it, for the records a
// custodian signs (nil if the tree cannot be computed).
func (v *verifier) record(i int64, it *item, before *tlog.Hash) {
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
		p, s := codeOf(r.Photo), codeOf(r.Subject)
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
		v.ingested(i, r, false)
	case *Duplicate:
		v.rep.Duplicates++
		if _, ok := v.photos[codeOf(r.Of)]; !ok {
			v.add(i, CheckRecord, "duplicate", "of photo %s, which no earlier record ingested", r.Of)
		}
	case *Quarantine:
		v.rep.Quarantines++
	case *Config:
		v.config(i, r, before)
	case *Access:
		v.rep.Accesses++
		if len(v.rep.AccessLog) < MaxFindings {
			v.rep.AccessLog = append(v.rep.AccessLog, AccessEvent{Record: i, Action: r.Action, Codes: r.Codes, Reason: r.Reason, Time: r.Time, Custodian: r.Custodian})
		}
		if err := VerifyAccess(r, v.custodians()); err != nil {
			v.add(i, CheckAccess, "access signature", "%v", err)
		}
		v.position(i, "access", r.At, before, r.Sig)
		for _, c := range r.Codes {
			k := codeOf(c)
			_, isPhoto := v.photos[k]
			_, isSubject := v.subjects[k]
			if !isPhoto && !isSubject {
				v.add(i, CheckRecord, "access", "names code %s, which no earlier record issued", c)
			}
		}
	}
}

// custodians returns the keys that may sign at this point of the log: those
// of the latest config record, or the auditor's pinned keys before any.
func (v *verifier) custodians() []ed25519.PublicKey {
	if v.rep.Config != nil {
		return v.rep.Config.CustodianKeys()
	}
	return v.opts.CustodianKeys
}

// config checks a config record: signed by a custodian key in effect before
// it (the pinned keys for the first), for this log, at its place. A valid
// one puts its keys in effect for the records after it.
func (v *verifier) config(i int64, r *Config, before *tlog.Hash) {
	if err := VerifyConfig(r, v.custodians()); err != nil {
		v.add(i, CheckConfig, "config signature", "%v (only a custodian of the keys in effect before it may change the vault's keys)", err)
		return
	}
	if "veil/"+r.Vault != v.opts.Origin {
		v.add(i, CheckConfig, "config", "names vault %s, but this is the log of %s", r.Vault, v.opts.Origin)
		return
	}
	if !v.position(i, "config", r.At, before, r.Sig) {
		return
	}
	v.rep.Config, v.rep.ConfigRecord = r, i
}

// position checks that a custodian-signed record stands where it was signed
// to stand: a copy appended elsewhere, or a replay of an older one, names
// another tree. It reports whether the record is in place.
func (v *verifier) position(i int64, what string, at *Position, before *tlog.Hash, sig string) bool {
	if prev, ok := v.signatures[sig]; ok && sig != "" {
		v.add(i, CheckAccess, what, "the same signed record as record %d (a replay)", prev)
		return false
	}
	if sig != "" {
		v.signatures[sig] = i
	}
	switch {
	case at == nil:
		v.add(i, CheckAccess, what, "not bound to its place in the log (written by a veil before position binding): a replayed copy could not be told apart")
		return false
	case before == nil:
		return true // the tree is broken; that is reported already
	case !at.Is(i, *before):
		v.add(i, CheckAccess, what, "signed for position %d of a log with root %s, but it is record %d of this log (moved, replayed or the log before it changed)", at.Size, short(at.Root), i)
		return false
	}
	return true
}

// registerDamaged notes the codes that an invalid record still names, and
// hands what it names to opts.Ingests, so that one bad record is one finding
// and not also a dangling duplicate, an orphan blob and an unlogged file.
func (v *verifier) registerDamaged(i int64, line []byte) {
	// Only the fields that name things: a malformed field that has its own
	// decoder (a time) would stop the decoding of the fields after it.
	var r struct {
		Photo    string   `json:"photo"`
		Subject  string   `json:"subject"`
		Released Released `json:"released"`
		Blob     BlobInfo `json:"blob"`
	}
	json.Unmarshal(line, &r) // best effort: keep whatever decodes
	if c, err := code.Parse(r.Photo); err == nil {
		v.photos[c] = i
	}
	if c, err := code.Parse(r.Subject); err == nil {
		v.subjects[c] = struct{}{}
	}
	v.ingested(i, &Ingest{Photo: r.Photo, Subject: r.Subject, Released: r.Released, Blob: r.Blob}, true)
}

// ingested passes an ingest record to opts.Ingests and reports what it finds.
func (v *verifier) ingested(i int64, r *Ingest, damaged bool) {
	if v.opts.Ingests == nil {
		return
	}
	for _, f := range v.opts.Ingests(i, r, damaged) {
		v.rep.Add(f)
	}
}

// codeOf returns the code s, which Parse has already checked.
func codeOf(s string) code.Code {
	c, _ := code.Parse(s)
	return c
}
