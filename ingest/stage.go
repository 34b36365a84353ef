package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/photo"
	"github.com/veil-photo/veil/vault"
)

// stage encrypts the original into the vault and strips it into the
// release folder, each staged under a temporary name: everything before the
// commit point. The batch's commit makes them durable and names them.
func (c *vaultCommitter) stage(ctx context.Context, n *newPhoto) result {
	p := c.p
	if err := n.hook(StepPut); err != nil {
		return p.stepErr(n.c, err)
	}
	var st *vault.Staged
	var err error
	if _, inMemory := n.src.(*bytes.Reader); inMemory {
		// The very bytes hashed above: the vault need not hash them again.
		st, err = p.v.StageKnown(ctx, io.NewSectionReader(n.src, 0, n.size), n.sha)
	} else {
		st, err = p.v.Stage(ctx, io.NewSectionReader(n.src, 0, n.size))
	}
	if err != nil {
		return p.stepErr(n.c, err)
	}
	ref := st.Ref
	if ref.PlainSize != n.size || ref.PlainSHA256 != n.detail.SHA256 {
		st.Discard()
		return result{ev: Event{Kind: Left, Path: n.c.path, Message: "changed while being read; left for the next run"}}
	}

	// Strip into a temporary file in the release folder, self-checked.
	if err := n.hook(StepRelease); err != nil {
		st.Discard()
		return p.stepErr(n.c, err)
	}
	target := filepath.Join(p.opts.Release, filepath.FromSlash(n.relPath))
	pending, res, relSHA, err := c.strip(target, n.src, n.size)
	if err != nil {
		st.Discard()
		var we *writeError
		if errors.As(err, &we) {
			return p.stepErr(n.c, we.err)
		}
		if r, ok := p.stillArriving(n, err); ok {
			return r
		}
		return p.stripFailed(n.c, n.detail, err)
	}
	if f, streamed := n.src.(*os.File); streamed && changedSince(f, n.c.fi) {
		pending.Discard()
		st.Discard()
		return result{ev: Event{Kind: Left, Path: n.c.path, Message: "changed while being read; left for the next run"}}
	}
	sealed, err := manifest.Seal(n.detail, p.recipients)
	if err != nil {
		pending.Discard()
		st.Discard()
		return result{fatal: err}
	}
	rec := &manifest.Ingest{
		Photo: n.photo.String(), Subject: n.subject.String(), Phase: n.place.Phase, Interval: n.place.Interval, Format: res.Format.String(),
		Released: manifest.Released{Path: n.relPath, SHA256: relSHA, Size: res.BytesOut, Width: res.Width, Height: res.Height},
		Blob:     manifest.BlobInfo{SHA256: ref.Hash, Size: ref.Size},
		Time:     p.opts.Now(),
		Sealed:   sealed,
	}
	return result{
		ev: Event{Kind: Ingested, Photo: rec.Photo, Subject: rec.Subject, Phase: rec.Phase, Format: rec.Format,
			Width: res.Width, Height: res.Height, Bytes: n.size},
		rec: rec, pending: pending, blob: ref.Hash, staged: st, photo: n,
		src: p.sourceUnlessKept(n.c),
	}
}

// The release folder's files and folders are readable by the release
// folder's group (researchers, the gallery host) and no one else, whatever
// the umask of the veil user: a coded photo is still a photo of a face.
const (
	releaseFileMode = 0o640
	releaseDirMode  = 0o750
)

// releaseTime is the modification time of every released file, subject
// folder and index.csv. The time of the ingest lies within hours or days of
// the visit, a date that the coding must not give away (HIPAA Safe Harbor
// counts every date element but the year); a fixed value says nothing.
// Not the Unix epoch: zip archives and FAT/exFAT drives, on which a release
// is often handed over, cannot store times before 1980 and tools then
// complain or shift them.
var releaseTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// writeError marks a failure to write the release folder, as opposed to a
// photo that cannot be stripped.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// hashingWriter writes to a file, hashes what it wrote and remembers a write
// error, which is the release folder's fault and not the photo's. It offers
// ReadAt and Seek so that photo.Strip self-checks by reading the file back.
type hashingWriter struct {
	f   *atomicfile.File
	h   hash.Hash
	err error
}

func (w *hashingWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	w.h.Write(b[:n])
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *hashingWriter) ReadAt(b []byte, off int64) (int, error) { return w.f.ReadAt(b, off) }

func (w *hashingWriter) Seek(off int64, whence int) (int64, error) { return w.f.Seek(off, whence) }

// strip writes the stripped photo to a temporary file for target and
// returns it pending, with what Strip found and the file's SHA-256.
func (c *vaultCommitter) strip(target string, f io.ReaderAt, size int64) (*atomicfile.Pending, *photo.Result, string, error) {
	release := c.p.opts.Release
	if err := c.subjectDir(filepath.Dir(target)); err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", release, filekind.Bare(err))}
	}
	out, err := atomicfile.Create(target, releaseFileMode)
	if err == nil {
		err = c.group.fchown(out.File)
	}
	if err != nil {
		if out != nil {
			out.Abort()
		}
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", release, filekind.Bare(err))}
	}
	defer out.Abort()
	w := &hashingWriter{f: out, h: sha256.New()}
	res, err := photo.Strip(w, f, size)
	if w.err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", release, filekind.Bare(w.err))}
	}
	if err != nil {
		return nil, nil, "", err
	}
	if err := os.Chtimes(out.Name(), releaseTime, releaseTime); err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", release, filekind.Bare(err))}
	}
	atomicfile.StartWriteback(out.File)
	pending, err := out.Close()
	if err != nil {
		return nil, nil, "", &writeError{err: fmt.Errorf("release folder %s: %w", release, filekind.Bare(err))}
	}
	return pending, res, fmt.Sprintf("%x", w.h.Sum(nil)), nil
}
