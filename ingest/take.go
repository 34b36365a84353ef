package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/veil-photo/veil/ingest/layout"
	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/release"
)

// claim marks an original being ingested by one worker, so that the same
// bytes met by another worker wait for its outcome instead of being stored
// twice.
type claim struct {
	orig lookup.MAC
	done chan struct{}
}

// newPhoto is an original found new, with everything the committer needs to
// store, release and log it.
type newPhoto struct {
	c       candidate
	src     io.ReaderAt // the original; a *bytes.Reader when read into memory
	size    int64
	sha     [32]byte
	place   layout.Placement
	detail  manifest.Detail
	photo   code.Code
	subject code.Code
	relPath string // in the release folder
	orig    lookup.MAC
	path    lookup.MAC
	subjKey lookup.MAC
	hook    func(Step) error
}

// take takes a file through the steps up to the commit point.
func (p *Pipeline) take(ctx context.Context, c candidate) result {
	hook := func(s Step) error { return p.hook(s, c.path) }
	detail := manifest.Detail{Path: c.full(), Name: c.fi.Name(), Size: c.fi.Size(), ModTime: c.fi.ModTime()}
	quarantine := func(reason string, err error) result {
		return p.commit.setAside(c, detail, reason, err)
	}
	if err := filekind.CheckRegular(c.fi.Mode()); errors.Is(err, filekind.ErrSymlink) {
		return quarantine("symlink", errSymlink)
	} else if err != nil {
		return quarantine("special-file", fmt.Errorf("a %s, not a photo file", filekind.Name(c.fi.Mode())))
	}
	place, err := p.opts.Layout.Match(c.rel)
	detail.PatientKey, detail.Phase = sealedPatient(place), place.PhaseText
	p.names.note(place)
	if errors.Is(err, layout.ErrPhase) {
		return quarantine("phase", err)
	} else if err != nil {
		return quarantine("layout", fmt.Errorf("%w (move it into a folder the layout names, or use --layout)", err))
	}
	switch {
	case c.fi.Size() == 0:
		return quarantine("empty", errEmpty)
	case c.fi.Size() > p.opts.MaxSize:
		return quarantine("too-large", fmt.Errorf("%d bytes, more than --max-size %d", c.fi.Size(), p.opts.MaxSize))
	}

	f, fi, err := filekind.OpenRegularIn(c.in, c.name())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return result{ev: Event{Kind: Left, Path: c.path, Message: "removed from the inbox before it could be read"}}
	case errors.Is(err, filekind.ErrSymlink):
		return quarantine("symlink", errSymlink)
	case errors.Is(err, filekind.ErrNotRegular):
		return result{ev: Event{Kind: Left, Path: c.path, Message: "changed while being read; left for the next run"}}
	case err != nil:
		return quarantine("unreadable", filekind.Bare(err))
	}
	defer f.Close()
	if !os.SameFile(fi, c.fi) || fi.Size() != c.fi.Size() || !fi.ModTime().Equal(c.fi.ModTime()) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "changed while being read; left for the next run"}}
	}
	if sparse(fi) {
		stored, _ := allocated(fi)
		return quarantine("sparse", fmt.Errorf("%d bytes, of which only %d are stored on disk: a file made to look big, not a photo", fi.Size(), stored))
	}
	size := fi.Size()

	// Hash the source.
	if err := hook(StepHash); err != nil {
		return p.stepErr(c, err)
	}
	var src io.ReaderAt = f
	var sha [32]byte
	var head []byte
	if size <= memLimit {
		// Read once: hash, vault and strip all see these very bytes, and
		// the file is not read three times through the kernel.
		buf := memPool.Get().(*[]byte)
		defer memPool.Put(buf)
		if int64(cap(*buf)) < size {
			*buf = make([]byte, size)
		}
		data := (*buf)[:size]
		if _, err := f.ReadAt(data, 0); err != nil {
			return quarantine("unreadable", filekind.Bare(err))
		}
		sha = sha256.Sum256(data)
		head = data[:min(size, photo.SniffLen)]
		src = bytes.NewReader(data)
	} else if sha, head, err = hashFile(f, size); err != nil {
		return quarantine("unreadable", err)
	}
	detail.SHA256 = fmt.Sprintf("%x", sha[:])
	format, err := photo.Sniff(head)
	if err != nil {
		if errors.Is(err, photo.ErrEmpty) {
			return quarantine("empty", errEmpty)
		}
		return quarantine("format", err)
	}

	// Duplicate check; claim the bytes if they are new.
	n := &newPhoto{c: c, src: src, size: size, sha: sha, place: place, detail: detail,
		orig: p.keys.Original(sha), path: p.keys.Path(detail.Path), subjKey: p.keys.Subject(place.Key), hook: hook}
	cl, r, done := p.claim(c, n)
	if done {
		return r
	}
	if n.photo, err = code.New(); err != nil {
		p.settle(cl)
		return result{fatal: fmt.Errorf("ingest: %w", err)}
	}
	var loose *lookup.MAC
	if place.LooseKey != "" {
		m := p.keys.Loose(place.LooseKey)
		loose = &m
	}
	n.subject, err = p.ix.Subject(n.subjKey, loose)
	if errors.Is(err, lookup.ErrLookAlike) {
		p.settle(cl)
		return quarantine("similar-name", p.lookAlike(c, place))
	} else if err != nil {
		p.settle(cl)
		return result{fatal: err}
	}
	n.relPath = release.PhotoPath(n.subject, n.photo, format.String())
	r = p.commit.stage(ctx, n)
	if r.pending == nil {
		p.settle(cl)
		return r
	}
	r.claim = cl
	return r
}

// sealedPatient is the patient as the sealed detail keeps it: the name, and
// the ID before it when the layout has one ("id:A-12 Jane Doe", or
// "id:A-12" alone), which reads back unambiguously since an ID holds no
// space. manifest.Detail has no field of its own for the ID.
func sealedPatient(place layout.Placement) string {
	id := strings.TrimSpace(place.ID)
	switch {
	case id == "":
		return place.Patient
	case place.Patient == "":
		return "id:" + id
	}
	return "id:" + id + " " + place.Patient
}

var (
	errSymlink = errors.New("a symbolic link, which veil does not follow (copy the photo itself)")
	errEmpty   = errors.New("empty file (was the copy interrupted? copy it again)")
)

// claim looks the original of n up: if it was ingested already, the
// outcome (Already or Duplicate) is r and done is set; otherwise the bytes
// are claimed for this worker, after waiting for another worker that holds
// them.
func (p *Pipeline) claim(c candidate, n *newPhoto) (cl *claim, r result, done bool) {
	for {
		p.mu.Lock()
		photoCode, found, seen, err := p.ix.Find(n.orig, n.path)
		if err != nil {
			p.mu.Unlock()
			return nil, result{fatal: err}, true
		}
		if found {
			p.mu.Unlock()
			if seen {
				return nil, result{ev: Event{Kind: Already, Photo: photoCode.String(), Bytes: n.size}, src: p.sourceUnlessKept(c)}, true
			}
			return nil, p.duplicate(c, n, photoCode), true
		}
		if w := p.claims[n.orig]; w != nil {
			p.mu.Unlock()
			<-w.done
			continue
		}
		cl = &claim{orig: n.orig, done: make(chan struct{})}
		p.claims[n.orig] = cl
		p.mu.Unlock()
		return cl, result{}, false
	}
}

// settle ends a claim: waiters see the outcome in the index.
func (p *Pipeline) settle(cl *claim) {
	if cl == nil {
		return
	}
	p.mu.Lock()
	// A failed claim frees the bytes for a waiting worker to try again.
	// Its subject code stays assigned in memory and is written with the
	// first record that names it.
	delete(p.claims, cl.orig)
	p.mu.Unlock()
	close(cl.done)
}

// duplicate logs bytes already ingested as another photo.
func (p *Pipeline) duplicate(c candidate, n *newPhoto, of code.Code) result {
	sealed, err := manifest.Seal(n.detail, p.recipients)
	if err != nil {
		return result{fatal: err}
	}
	return result{
		ev:  Event{Kind: Duplicate, Photo: of.String(), Bytes: n.size},
		rec: &manifest.Duplicate{Of: of.String(), Time: p.opts.Now(), Sealed: sealed},
		dup: &dupOf{path: n.path, orig: n.orig},
		src: p.sourceUnlessKept(c),
	}
}

func (p *Pipeline) sourceUnlessKept(c candidate) *candidate {
	if p.opts.KeepSource {
		return nil
	}
	return &c
}

// stepErr turns a failure of the vault or the release folder into the end
// of the run: every further file would fail the same way. The file stays in
// the inbox.
func (p *Pipeline) stepErr(c candidate, err error) result {
	if errors.Is(err, context.Canceled) {
		return result{ev: Event{Kind: Left, Path: c.path, Message: "not committed: the run was stopped; it is still in the inbox"}}
	}
	hint := "; stopped, the files not committed are still in the inbox"
	if atomicfile.IsFull(err) {
		hint = "; stopped: make room, then run again (nothing was lost: the files not committed are still in the inbox)"
	}
	return result{
		ev:    Event{Kind: Left, Path: c.path, Message: "not committed: " + err.Error()},
		fatal: fmt.Errorf("ingest: %s: %w%s", c.path, err, hint),
	}
}

// stripFailed quarantines a photo that photo.Strip refused, with words for
// the staff.
func (p *Pipeline) stripFailed(c candidate, d manifest.Detail, err error) result {
	var fe *photo.FormatError
	var ue *photo.UnsupportedError
	switch {
	case errors.Is(err, photo.ErrSelfCheck):
		return p.commit.setAside(c, d, "self-check", fmt.Errorf("%w (please report this file to the veil developers)", err))
	case errors.As(err, &ue):
		return p.commit.setAside(c, d, "format", err)
	case errors.As(err, &fe):
		return p.commit.setAside(c, d, "damaged", fmt.Errorf("%w; the file is damaged or incomplete (copy it again from the camera or phone)", err))
	}
	return p.commit.setAside(c, d, "unreadable", err)
}

// hashFile returns the SHA-256 of f's size bytes and their head.
func hashFile(f *os.File, size int64) ([32]byte, []byte, error) {
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	h := sha256.New()
	head := make([]byte, 0, photo.SniffLen)
	r := io.NewSectionReader(f, 0, size)
	var n int64
	for {
		k, err := r.Read(*buf)
		if len(head) < photo.SniffLen {
			head = append(head, (*buf)[:min(k, photo.SniffLen-len(head))]...)
		}
		h.Write((*buf)[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return [32]byte{}, nil, filekind.Bare(err)
		}
	}
	if n != size {
		return [32]byte{}, nil, fmt.Errorf("read %d bytes, expected %d", n, size)
	}
	var m [32]byte
	h.Sum(m[:0])
	return m, head, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// memLimit is the largest source read into memory whole (a 12 MP JPEG is 3
// to 8 MB); larger ones are streamed from the file, three times.
const memLimit = 16 << 20

var memPool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}
