package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"filippo.io/age"
	"github.com/veil-photo/veil/internal/atomicfile"
)

// blobExt ends the name of every blob file.
const blobExt = ".age"

// BlobRef describes a stored blob. Hash and Size are of the ciphertext, the
// file in the vault; PlainSHA256 and PlainSize are of the original bytes.
type BlobRef struct {
	Hash        string // hex SHA-256 of the blob file
	Size        int64
	PlainSHA256 string // hex SHA-256 of the plaintext
	PlainSize   int64
}

// Faults of a blob, wrapped by BlobError and checked with errors.Is.
var (
	ErrBlobMissing   = errors.New("missing")
	ErrBlobTruncated = errors.New("truncated")
	ErrBlobAppended  = errors.New("has bytes appended")
	ErrBlobCorrupted = errors.New("corrupted")
	ErrBlobMismatch  = errors.New("content does not match its name")
	ErrWrongKey      = errors.New("not encrypted to this custodian")
)

// BlobError names a blob and what is wrong with it.
type BlobError struct {
	Hash   string
	Fault  error  // one of the ErrBlob... values or ErrWrongKey
	Detail string // evidence, may be empty
}

func (e *BlobError) Error() string {
	s := fmt.Sprintf("vault: blob %s: %v", e.Hash, e.Fault)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the fault.
func (e *BlobError) Unwrap() error { return e.Fault }

// isBlobHash reports whether s is a blob name stem: 64 lower-case hex digits.
func isBlobHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// BlobPath returns where the blob with ciphertext hash lives. hash is not
// checked; a malformed hash yields a path that no blob has.
func (v *Vault) BlobPath(hash string) string {
	sub := "xx"
	if len(hash) >= 2 {
		sub = hash[:2]
	}
	return filepath.Join(v.dir, blobsDir, sub, hash+blobExt)
}

// Put encrypts the plaintext from r to the vault's recipients and stores it.
// The blob is written to a temporary file inside the vault, fsynced, renamed
// to blobs/<2 hex>/<hash>.age and the directory fsynced; only then does Put
// return. Concurrent Puts are safe. If a blob of the same name exists it is
// kept: same name means same bytes.
func (v *Vault) Put(ctx context.Context, r io.Reader) (ref BlobRef, err error) {
	blobs := filepath.Join(v.dir, blobsDir)
	f, err := os.CreateTemp(blobs, tempPattern())
	if err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o640); err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	ref, err = v.encrypt(ctx, f, r, nil)
	if err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	if !v.noSync {
		if err := f.Sync(); err != nil {
			return BlobRef{}, fmt.Errorf("vault: put: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	if err := v.commitTemp(tmp, ref.Hash); err != nil {
		return BlobRef{}, fmt.Errorf("vault: put: %w", err)
	}
	return ref, nil
}

// encrypt streams the plaintext from r through age to dst, hashing both
// sides on the way. It is Put without the file system. If plainSum is not
// nil it is the plaintext's SHA-256, already known to the caller, and the
// plaintext is not hashed again.
func (v *Vault) encrypt(ctx context.Context, dst io.Writer, r io.Reader, plainSum *[sha256.Size]byte) (BlobRef, error) {
	cipher := &hashWriter{w: dst, h: sha256.New()}
	w, err := age.Encrypt(cipher, v.recipients...)
	if err != nil {
		return BlobRef{}, err
	}
	plain := &hashReader{r: r, ctx: ctx}
	if plainSum == nil {
		plain.h = sha256.New()
	}
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(w, plain, *buf)
	copyBuffers.Put(buf)
	if err != nil {
		return BlobRef{}, err
	}
	if err := w.Close(); err != nil {
		return BlobRef{}, err
	}
	ref := BlobRef{Hash: hex.EncodeToString(cipher.h.Sum(nil)), Size: cipher.n, PlainSize: plain.n}
	if plainSum != nil {
		ref.PlainSHA256 = hex.EncodeToString(plainSum[:])
	} else {
		ref.PlainSHA256 = hex.EncodeToString(plain.h.Sum(nil))
	}
	return ref, nil
}

// copyBuffers hold the plaintext on its way into age: a new one per blob
// was most of what ingest allocated for a small photo.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// commitTemp moves the finished temp file tmp to the name of blob hash and
// makes that durable. If the blob exists it is kept and tmp removed: the
// name is the hash of the bytes, so they are the same.
func (v *Vault) commitTemp(tmp, hash string) error { return v.nameTemp(tmp, hash, true) }

// nameTemp renames tmp to the name of blob hash; with sync it fsyncs the
// directories involved, otherwise the caller syncs the file system after.
func (v *Vault) nameTemp(tmp, hash string, sync bool) error {
	blobs := filepath.Join(v.dir, blobsDir)
	dst := v.BlobPath(hash)
	sub := filepath.Dir(dst)
	if _, err := os.Stat(sub); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(sub, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if sync {
			if err := v.syncDir(blobs); err != nil {
				return err
			}
		}
	}
	if _, err := os.Lstat(dst); err == nil {
		return os.Remove(tmp)
	}
	if err := atomicfile.Rename(tmp, dst); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	// Sync both directories: the rename removed an entry from one and added
	// it to the other.
	if err := v.syncDir(sub); err != nil {
		return err
	}
	return v.syncDir(blobs)
}

// Staged is an encrypted blob in a temporary file of the vault: written but
// neither durable nor named yet. CommitStaged makes a batch of them durable
// together (group commit); Discard drops one.
type Staged struct {
	Ref  BlobRef
	temp string
}

// Stage encrypts the plaintext from r into a temporary file in the vault,
// like Put but without syncing or naming it. A crash leaves only a temporary
// file, which Open removes once its writer is dead.
func (v *Vault) Stage(ctx context.Context, r io.Reader) (st *Staged, err error) {
	return v.stage(ctx, r, nil)
}

// StageKnown is Stage for a plaintext that the caller has already hashed:
// r must yield exactly the bytes whose SHA-256 is plainSum, such as a buffer
// in memory that the caller hashed itself. The vault records plainSum rather
// than hashing the same bytes a second time; the size is still counted.
func (v *Vault) StageKnown(ctx context.Context, r io.Reader, plainSum [sha256.Size]byte) (*Staged, error) {
	return v.stage(ctx, r, &plainSum)
}

func (v *Vault) stage(ctx context.Context, r io.Reader, plainSum *[sha256.Size]byte) (st *Staged, err error) {
	f, err := os.CreateTemp(filepath.Join(v.dir, blobsDir), tempPattern())
	if err != nil {
		return nil, fmt.Errorf("vault: put: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o640); err != nil {
		return nil, fmt.Errorf("vault: put: %w", err)
	}
	ref, err := v.encrypt(ctx, f, r, plainSum)
	if err != nil {
		return nil, fmt.Errorf("vault: put: %w", err)
	}
	if !v.noSync {
		atomicfile.StartWriteback(f)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("vault: put: %w", err)
	}
	return &Staged{Ref: ref, temp: tmp}, nil
}

// Discard removes a staged blob that was not committed.
func (s *Staged) Discard() { os.Remove(s.temp) }

// CommitStaged makes staged blobs durable and gives them their names, in
// the order that keeps a named blob complete after a crash: one sync of the
// file system for all their data, then the renames, then one more sync for
// the names. It replaces an fsync of each file and two of directories per
// blob. When it returns nil every blob is as durable as after Put.
func (v *Vault) CommitStaged(staged []*Staged) error {
	if len(staged) == 0 {
		return nil
	}
	blobs := filepath.Join(v.dir, blobsDir)
	if !v.noSync {
		if err := atomicfile.SyncFS(blobs); err != nil {
			return fmt.Errorf("vault: put: %w", err)
		}
	}
	for _, s := range staged {
		if err := v.nameTemp(s.temp, s.Ref.Hash, false); err != nil {
			return fmt.Errorf("vault: put: %w", err)
		}
	}
	if !v.noSync {
		if err := atomicfile.SyncFS(blobs); err != nil {
			return fmt.Errorf("vault: put: %w", err)
		}
	}
	return nil
}

func (v *Vault) syncDir(dir string) error {
	if v.noSync {
		return nil
	}
	return atomicfile.SyncDir(dir)
}

// hashWriter hashes and counts what it writes.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// hashReader hashes (unless h is nil) and counts what it reads and stops
// when ctx is done.
type hashReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	ctx context.Context
}

func (r *hashReader) Read(p []byte) (int, error) {
	if r.ctx != nil {
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
	}
	n, err := r.r.Read(p)
	if r.h != nil {
		r.h.Write(p[:n])
	}
	r.n += int64(n)
	return n, err
}

// StrayFilesError is returned by WalkBlobs, after every blob has been
// visited, when blobs/ holds entries that are neither blobs nor temporary
// files: an auditor should see them, and they must not stop the walk.
type StrayFilesError struct {
	Paths []string // relative to the vault directory
}

func (e *StrayFilesError) Error() string {
	if len(e.Paths) == 1 {
		return fmt.Sprintf("vault: unexpected file in blobs: %s", e.Paths[0])
	}
	return fmt.Sprintf("vault: %d unexpected files in blobs, first %s", len(e.Paths), e.Paths[0])
}

// WalkBlobs calls fn for every blob, in order of hash, with its ciphertext
// hash and size. It reads one blobs/<2 hex> directory at a time, so memory
// does not grow with the vault. If fn returns an error, the walk stops and
// WalkBlobs returns it. Temporary files are skipped. Any other entry (a
// wrongly named or misplaced file, a directory, a symlink) does not stop the
// walk; WalkBlobs returns them all at the end as a *StrayFilesError.
func (v *Vault) WalkBlobs(fn func(hash string, size int64) error) error {
	root := filepath.Join(v.dir, blobsDir)
	subs, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	var stray []string
	for _, sub := range subs {
		rel := filepath.Join(blobsDir, sub.Name())
		if atomicfile.IsTemp(sub.Name()) {
			continue
		}
		if !sub.IsDir() || len(sub.Name()) != 2 || !isBlobHash(sub.Name()+strings.Repeat("0", 62)) {
			stray = append(stray, rel)
			continue
		}
		entries, err := os.ReadDir(filepath.Join(root, sub.Name()))
		if err != nil {
			return fmt.Errorf("vault: %w", err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for _, e := range entries {
			name := e.Name()
			if atomicfile.IsTemp(name) {
				continue
			}
			hash, ok := strings.CutSuffix(name, blobExt)
			if !ok || !isBlobHash(hash) || hash[:2] != sub.Name() || !e.Type().IsRegular() {
				stray = append(stray, filepath.Join(rel, name))
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the listing
			}
			if err != nil {
				return fmt.Errorf("vault: %w", err)
			}
			if err := fn(hash, info.Size()); err != nil {
				return err
			}
		}
	}
	if len(stray) > 0 {
		return &StrayFilesError{Paths: stray}
	}
	return nil
}

// CheckBlob checks, without any key, that the blob ref names is present and
// has exactly the recorded size and hash. It reads the whole blob.
func (v *Vault) CheckBlob(ref BlobRef) error {
	f, err := v.openBlobFile(ref.Hash)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkSize(ref, f); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return &BlobError{Hash: ref.Hash, Fault: ErrBlobCorrupted, Detail: "read: " + err.Error()}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ref.Hash {
		return &BlobError{Hash: ref.Hash, Fault: ErrBlobMismatch, Detail: "sha256 is " + got}
	}
	return nil
}

func (v *Vault) openBlobFile(hash string) (*os.File, error) {
	if !isBlobHash(hash) {
		return nil, fmt.Errorf("vault: %q is not a blob hash (64 lower-case hex digits)", hash)
	}
	f, err := os.Open(v.BlobPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &BlobError{Hash: hash, Fault: ErrBlobMissing}
	}
	if err != nil {
		return nil, fmt.Errorf("vault: blob %s: %w", hash, err)
	}
	return f, nil
}

func checkSize(ref BlobRef, f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("vault: blob %s: %w", ref.Hash, err)
	}
	switch size := info.Size(); {
	case size < ref.Size:
		return &BlobError{Hash: ref.Hash, Fault: ErrBlobTruncated, Detail: fmt.Sprintf("%d of %d bytes", size, ref.Size)}
	case size > ref.Size:
		return &BlobError{Hash: ref.Hash, Fault: ErrBlobAppended, Detail: fmt.Sprintf("%d bytes, want %d", size, ref.Size)}
	}
	return nil
}

// OpenBlob streams the plaintext of the blob named hash, decrypted with the
// custodian's identity. Every fault is a *BlobError naming the blob. Read
// returns io.EOF only after the final chunk has been authenticated and the
// blob's bytes have been checked against its name; a caller writing plaintext
// to disk must treat anything before that EOF as unconfirmed.
//
// Without the recorded size, truncation inside the last chunk and appended
// bytes show as ErrBlobCorrupted; OpenBlobRef tells them apart.
func (v *Vault) OpenBlob(hash string, c *Custodian) (io.ReadCloser, error) {
	return v.openBlob(BlobRef{Hash: hash, Size: -1, PlainSize: -1}, c)
}

// OpenBlobRef is OpenBlob that also checks the blob's size before decrypting
// and the plaintext's size and SHA-256 at the end, as recorded in ref (a
// field left zero, or -1 for sizes, is not checked).
func (v *Vault) OpenBlobRef(ref BlobRef, c *Custodian) (io.ReadCloser, error) {
	return v.openBlob(ref, c)
}

func (v *Vault) openBlob(ref BlobRef, c *Custodian) (io.ReadCloser, error) {
	if c == nil || c.Identity == nil {
		return nil, errors.New("vault: opening a blob needs the custodian identity")
	}
	f, err := v.openBlobFile(ref.Hash)
	if err != nil {
		return nil, err
	}
	if ref.Size >= 0 {
		if err := checkSize(ref, f); err != nil {
			f.Close()
			return nil, err
		}
	}
	if info, err := f.Stat(); err == nil && info.Size() == 0 {
		f.Close()
		return nil, &BlobError{Hash: ref.Hash, Fault: ErrBlobTruncated, Detail: "empty file"}
	}
	br := &blobReader{ref: ref, f: f, src: &hashReader{r: f, h: sha256.New()}, plain: sha256.New()}
	r, err := age.Decrypt(br.src, c.Identity)
	if err != nil {
		err = br.classify(err, true)
		f.Close()
		return nil, err
	}
	br.r = r
	return br, nil
}

// blobReader decrypts a blob and hashes the ciphertext on the way, so that a
// blob swapped for another validly encrypted one is caught.
type blobReader struct {
	ref   BlobRef
	f     *os.File
	src   *hashReader // ciphertext
	r     io.Reader   // plaintext
	plain hash.Hash
	n     int64
	err   error
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.plain.Write(p[:n])
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.err = b.finish()
		if b.err == nil {
			b.err = io.EOF
		}
		return n, b.err
	case err != nil:
		b.err = b.classify(err, false)
		return n, b.err
	}
	return n, nil
}

// finish runs at the authenticated end of the plaintext.
func (b *blobReader) finish() error {
	if got := hex.EncodeToString(b.src.h.Sum(nil)); got != b.ref.Hash {
		return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobMismatch, Detail: "sha256 of the file is " + got + " (renamed or substituted)"}
	}
	if b.ref.PlainSize >= 0 && b.n != b.ref.PlainSize {
		return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobMismatch, Detail: fmt.Sprintf("plaintext is %d bytes, recorded %d", b.n, b.ref.PlainSize)}
	}
	if b.ref.PlainSHA256 != "" {
		if got := hex.EncodeToString(b.plain.Sum(nil)); got != b.ref.PlainSHA256 {
			return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobMismatch, Detail: "plaintext sha256 is " + got + ", recorded " + b.ref.PlainSHA256}
		}
	}
	return nil
}

// classify turns an error from age into a BlobError naming the fault.
func (b *blobReader) classify(err error, header bool) error {
	var nomatch *age.NoIdentityMatchError
	if errors.As(err, &nomatch) {
		// A damaged header looks to age like a key that does not match; the
		// content hash tells which it is.
		if b.restMatchesName() {
			return &BlobError{Hash: b.ref.Hash, Fault: ErrWrongKey, Detail: "wrong custodian file for this vault?"}
		}
		return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobCorrupted, Detail: "header damaged"}
	}
	where := fmt.Sprintf("in the chunk read up to byte %d", b.src.n)
	if header {
		where = "in the header"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobTruncated, Detail: "ends " + where}
	}
	if b.restMatchesName() {
		// Intact bytes that do not decrypt: not a fault of the storage.
		return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobCorrupted, Detail: "written damaged: " + err.Error()}
	}
	detail := err.Error()
	if !header && b.ref.Size < 0 {
		detail += " (bit flip, truncation or appended bytes)"
	}
	return &BlobError{Hash: b.ref.Hash, Fault: ErrBlobCorrupted, Detail: where + ": " + detail}
}

// restMatchesName reads the rest of the blob and reports whether its bytes
// hash to its name. Only called on the error path.
func (b *blobReader) restMatchesName() bool {
	if _, err := io.Copy(io.Discard, b.src); err != nil {
		return false
	}
	return hex.EncodeToString(b.src.h.Sum(nil)) == b.ref.Hash
}

// Close closes the blob file.
func (b *blobReader) Close() error { return b.f.Close() }
