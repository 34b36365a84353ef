package custody

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// Restore is a logged restore: it writes the originals of the photos its
// codes resolved to into one folder, and nowhere else.
type Restore struct {
	*Grant
	dir string
}

// Restore logs a restore of req's codes by the custodian id (see Grant) and
// returns what can then write their originals into dir, an existing folder.
// It returns a *DirtyLogError or *UnknownCodesError, or ErrNotCustodian,
// having logged nothing.
func (cv *Vault) Restore(ctx context.Context, id *vault.Custodian, req Request, dir string) (*Restore, error) {
	// An unusable folder fails before anything is logged.
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("custody: restore folder: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("custody: restore folder %s is not a directory", dir)
	}
	g, err := cv.access(ctx, id, manifest.ActionRestore, req)
	if err != nil {
		return nil, err
	}
	return &Restore{Grant: g, dir: dir}, nil
}

// WriteOriginal decrypts the original of p, which must be one of the grant's
// photos, into the folder as <photo code>-<original name> and returns its
// path and size. The file is kept only if its SHA-256 is the one sealed at
// ingest; an existing file is never replaced.
func (r *Restore) WriteOriginal(p *Photo) (string, int64, error) {
	if err := r.check(p); err != nil {
		return "", 0, err
	}
	d, err := manifest.Unseal(p.Ingest.Sealed, r.custodian.Identity)
	if err != nil {
		return "", 0, err
	}
	target := filepath.Join(r.dir, p.Ingest.Photo+"-"+safeName(d.Name, p.Ingest.Format))
	f, err := atomicfile.Create(target, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer f.Abort()
	ref := vault.BlobRef{Hash: p.Ingest.Blob.SHA256, Size: p.Ingest.Blob.Size, PlainSHA256: d.SHA256, PlainSize: d.Size}
	rc, err := r.vault.OpenBlobRef(ref, r.custodian)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), rc)
	if err != nil {
		return "", 0, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
		return "", 0, fmt.Errorf("custody: decrypted original has sha256 %s, but its record says %s; not written", got, d.SHA256)
	}
	if err := f.Commit(true); err != nil {
		return "", 0, err
	}
	return target, n, nil
}

// safeName keeps the original base name for the custodian's benefit, but
// never lets it choose a directory or hide the file: the name was read from
// an inbox anyone could write to.
func safeName(name, format string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == ".." || name == "/" || name == "" || strings.HasPrefix(name, ".") {
		return "original." + format
	}
	return name
}
