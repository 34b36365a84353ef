package custody

import (
	"context"
	"fmt"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Reveal is a logged reveal: it opens the sealed details of the photos its
// codes resolved to.
type Reveal struct {
	*Grant
}

// Revealed is what was sealed about a photo and its duplicates.
type Revealed struct {
	Detail     manifest.Detail
	Duplicates []RevealedDuplicate // in log order
}

// RevealedDuplicate is what was sealed about one duplicate of a photo.
type RevealedDuplicate struct {
	Record int64
	Detail manifest.Detail
}

// Reveal logs a reveal of req's codes by the custodian id (see Grant) and
// returns what can then open their sealed details. It returns a
// *DirtyLogError or *UnknownCodesError, or ErrNotCustodian, having logged
// nothing.
func (cv *Vault) Reveal(ctx context.Context, id *vault.Custodian, req Request) (*Reveal, error) {
	g, err := cv.access(ctx, id, manifest.ActionReveal, req)
	if err != nil {
		return nil, err
	}
	return &Reveal{Grant: g}, nil
}

// Unseal opens the sealed details of p, which must be one of the grant's
// photos, and of its duplicates.
func (r *Reveal) Unseal(p *Photo) (*Revealed, error) {
	if err := r.check(p); err != nil {
		return nil, err
	}
	d, err := manifest.Unseal(p.Ingest.Sealed, r.custodian.Identity)
	if err != nil {
		return nil, err
	}
	out := &Revealed{Detail: d}
	for _, dup := range p.Duplicates {
		dd, err := manifest.Unseal(dup.Duplicate.Sealed, r.custodian.Identity)
		if err != nil {
			return nil, fmt.Errorf("duplicate record %d: %w", dup.Record, err)
		}
		out.Duplicates = append(out.Duplicates, RevealedDuplicate{Record: dup.Record, Detail: dd})
	}
	return out, nil
}
