package manifest

// The meaning of each record against the records before it: codes issued
// once, duplicates and reversals of codes that exist, custodian signatures.

import (
	"encoding/json"

	"github.com/veil-photo/veil/internal/code"
)

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
	case *Access:
		v.rep.Accesses++
		if len(v.rep.AccessLog) < MaxFindings {
			v.rep.AccessLog = append(v.rep.AccessLog, AccessEvent{Record: i, Action: r.Action, Codes: r.Codes, Reason: r.Reason, Time: r.Time, Custodian: r.Custodian})
		}
		if err := VerifyAccess(r, v.opts.CustodianKeys); err != nil {
			v.add(i, CheckAccess, "access signature", "%v", err)
		}
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
