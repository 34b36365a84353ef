package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// blobs checks every logged blob and looks for blobs no record names.
func (a *auditor) blobs(ctx context.Context) error {
	// blobRefs is in record order, the order findings are reported in.
	refs := &a.blobRefs.refs
	err := a.hashFiles(ctx, CheckBlob, refs.len(), func(k int) (hashJob, bool) {
		b := refs.at(k)
		h := hex.EncodeToString(b.sha[:])
		return hashJob{record: b.record, object: "blob " + short(h), path: a.vault.BlobPath(h), sha: h, size: b.size}, true
	})
	if err != nil {
		return err
	}
	var orphans []string
	err = a.vault.WalkBlobs(func(hash string, size int64) error {
		if !a.logged(hash) {
			orphans = append(orphans, hash)
		}
		return ctx.Err()
	})
	// Stray files in the blob store are findings, reported last; they do
	// not stop the audit.
	var se *vault.StrayFilesError
	if errors.As(err, &se) {
		a.stray, err = se.Paths, nil
	}
	if err != nil {
		return fmt.Errorf("audit: blobs: %w", err)
	}
	// The release checks do not need the blobs: let them have the memory.
	a.blobRefs = nil
	sort.Strings(orphans)
	for _, h := range orphans {
		a.rep.Add(manifest.Finding{Record: -1, Check: CheckBlob, Object: "blob " + short(h), Problem: "no record references it (orphan)"})
	}
	return nil
}

// logged reports whether a record names the blob the vault lists as hash.
// A name that is not lower-case hex is no logged hash.
func (a *auditor) logged(hash string) bool {
	sha, ok := parseSHA256(hash)
	if !ok {
		return false
	}
	_, found := a.blobRefs.find(sha)
	return found
}
