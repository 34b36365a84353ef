package ingest

import (
	"context"
	"io"
	"os"

	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/photo"
)

// committer is everything of a pass that changes the vault, the release
// folder or the inbox: the real one (vaultCommitter) and the dry run's,
// which changes nothing and reports what would happen.
type committer interface {
	// begin prepares the pass over the inbox folders roots; it returns how
	// many leftovers of an interrupted run it removed.
	begin(roots []*os.Root) (cleaned int, err error)
	// recoverQuarantine sends to results the records owed for files that
	// an interrupted run moved into root's quarantine folder.
	recoverQuarantine(root string, results chan<- result) error
	// stage takes a new original up to the commit point. A result
	// without pending is final (set aside, left, or a dry run's).
	stage(ctx context.Context, n *newPhoto) result
	// setAside quarantines a file.
	setAside(c candidate, d manifest.Detail, reason string, why error) result
	// commit commits a batch, or discards it if failed is set (an earlier
	// batch hit a fatal error), and returns its events.
	commit(batch []result, failed bool) ([]Event, error)
	// close ends the committer's use of the vault; it may be called again.
	close() error
}

// dryCommitter is the committer of a dry run: it strips each new photo to
// nowhere, to know whether it would be released, and tells a private copy
// of the lookup index about it, so that the rest of the run sees it as
// ingested. Nothing is written to the vault, the release folder or the
// inbox.
type dryCommitter struct{ p *Pipeline }

func newDryCommitter(p *Pipeline) (*dryCommitter, error) {
	if err := custody.CheckKeys(p.v); err != nil {
		return nil, err
	}
	ix, err := lookup.OpenPrivate(p.v.IndexDir(), p.v.LogDir())
	if err != nil {
		return nil, err
	}
	p.ix = ix
	return &dryCommitter{p: p}, nil
}

func (d *dryCommitter) begin([]*os.Root) (int, error) { return 0, nil }

func (d *dryCommitter) recoverQuarantine(string, chan<- result) error { return nil }

func (d *dryCommitter) stage(_ context.Context, n *newPhoto) result {
	res, err := photo.Strip(io.Discard, n.src, n.size)
	if err != nil {
		if r, ok := d.p.stillArriving(n, err); ok {
			return r
		}
		return d.p.stripFailed(n.c, n.detail, err)
	}
	if err := d.p.ix.Assume(n.orig, n.photo, n.path); err != nil {
		return result{fatal: err}
	}
	return result{ev: Event{Kind: Ingested, Photo: n.photo.String(), Subject: n.subject.String(), Phase: n.place.Phase,
		Format: res.Format.String(), Width: res.Width, Height: res.Height, Bytes: n.size}}
}

func (d *dryCommitter) setAside(c candidate, _ manifest.Detail, reason string, why error) result {
	return result{ev: Event{Kind: Quarantined, Path: c.path, Reason: reason, Message: why.Error(), Bytes: c.fi.Size()}}
}

func (d *dryCommitter) commit(batch []result, _ bool) ([]Event, error) {
	evs := make([]Event, 0, len(batch))
	for _, r := range batch {
		evs = append(evs, r.ev)
	}
	return evs, nil
}

func (d *dryCommitter) close() error { return d.p.ix.Close(-1, -1) }
