// Package audit is veil verify's engine: it checks a vault against its own
// signed log and against the keys an auditor pinned. The log's own checks
// (tree, checkpoints, records, signatures) are package manifest's; this
// package adds what lies outside the log: the vault's keys against the
// pinned ones (keys.go), every encrypted original present with its logged
// hash and size and none without a record (blobs.go), every released photo
// present with its logged hash and none unlogged, in the layout of package
// release (release.go), and index.csv row by row against the ingest records
// (index.go).
//
// An audit never writes to the vault. Damage is a finding in the report;
// an error is an audit that could not run.
package audit

import (
	"context"
	"fmt"
	"runtime"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// The checks of an audit beyond the log's own (manifest.CheckCheckpoint and
// the others).
const (
	CheckKeys    manifest.Check = "checkpoint" // the vault's keys against the pinned ones; "checkpoint" as before, for JSON readers
	CheckBlob    manifest.Check = "blob"       // encrypted originals in the vault
	CheckRelease manifest.Check = "release"    // the release folder
)

// Options says what to audit and with which keys.
type Options struct {
	// PinnedKeys is the auditor.pub the auditor keeps outside the vault. Its
	// keys verify the log, and a vault.json or a VAULT/auditor.pub that
	// differs is a finding. Nil
	// trusts the vault's own keys, which proves nothing against whoever
	// controls the vault.
	PinnedKeys *vault.PublicKeys
	// PinnedCheckpoint is the signed checkpoint of an earlier audit, or nil;
	// the log must still contain it.
	PinnedCheckpoint []byte
	// Release is the release folder to audit; "" skips it.
	Release string
	// Workers bounds parallel parsing and hashing; 0 means one per core.
	Workers int
}

// Run audits the vault v: its log (manifest.Verify), its blobs and, with
// opts.Release, the release folder. Findings come in the order of the
// phases: keys, log, blobs, release.
func Run(ctx context.Context, v *vault.Vault, opts Options) (*manifest.Report, error) {
	found := v.PublicKeys()
	keys := found
	var keyFindings []manifest.Finding
	if opts.PinnedKeys != nil {
		keys = *opts.PinnedKeys
		keyFindings = compareKeys("vault.json", keys, found)
		pubFindings, err := vaultAuditorPub(v, keys)
		if err != nil {
			return nil, err
		}
		keyFindings = append(keyFindings, pubFindings...)
	}
	vs, err := keys.Verifiers()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	a := &auditor{opts: opts, vault: v, blobRefs: newBlobTable()}
	if opts.Release != "" {
		a.releaseRefs = newReleaseTable()
	}
	a.rep, err = manifest.Verify(ctx, manifest.VerifyOptions{
		LogDir:        v.LogDir(),
		Origin:        vs.Origin,
		LogVerifier:   vs.Log,
		CustodianKeys: vs.Custodians,
		Pinned:        opts.PinnedCheckpoint,
		Workers:       opts.Workers,
		Ingests:       a.ingested,
	})
	if err != nil {
		return nil, err
	}
	keyFindings = append(keyFindings, loggedKeys(a.rep, found, opts.PinnedKeys)...)
	if len(keyFindings) > 0 {
		a.rep.Findings = append(keyFindings, a.rep.Findings...)
	}
	if err := a.blobs(ctx); err != nil {
		return nil, err
	}
	if a.releaseRefs != nil {
		if err := a.release(ctx); err != nil {
			return nil, err
		}
		if err := a.index(); err != nil {
			return nil, err
		}
	}
	if err := a.layout(); err != nil {
		return nil, err
	}
	for _, p := range a.stray {
		a.rep.Add(manifest.Finding{Record: -1, Check: CheckBlob, Object: p, Problem: "unexpected file in the blob store"})
	}
	return a.rep, nil
}

// auditor is the state of one Run: the log's report, which findings are
// added to, and the compact tables of the files the log names.
type auditor struct {
	opts        Options
	vault       *vault.Vault
	rep         *manifest.Report
	blobRefs    *blobTable
	releaseRefs *releaseTable // nil: no release folder to audit
	stray       []string      // files in the blob store that are not blobs
}

// ingested notes the blob and released file that record i names, during the
// log's scan; a second record naming either is a finding at that record.
func (a *auditor) ingested(i int64, r *manifest.Ingest, damaged bool) []manifest.Finding {
	var out []manifest.Finding
	if sha, ok := parseSHA256(r.Blob.SHA256); ok {
		if prev, found := a.blobRefs.find(sha); !found {
			a.blobRefs.add(i, sha, r.Blob.Size)
		} else if !damaged {
			out = append(out, manifest.Finding{Record: i, Check: CheckBlob, Object: "blob " + short(r.Blob.SHA256),
				Problem: fmt.Sprintf("also referenced by record %d (a blob belongs to one photo)", prev.record)})
		}
	}
	if a.releaseRefs != nil && r.Released.Path != "" {
		if k, found := a.releaseRefs.find(r.Released.Path); !found {
			a.releaseRefs.add(i, r, damaged)
		} else if !damaged {
			out = append(out, manifest.Finding{Record: i, Check: CheckRelease, Object: "released file " + r.Released.Path,
				Problem: fmt.Sprintf("also logged by record %d", a.releaseRefs.refs.at(k).record)})
		}
	}
	return out
}

func (a *auditor) workers() int {
	if a.opts.Workers > 0 {
		return a.opts.Workers
	}
	return runtime.NumCPU()
}

// short abbreviates a hash for a finding.
func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}
