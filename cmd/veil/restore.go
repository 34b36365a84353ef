package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// RestoreOptions are the flags of veil restore.
type RestoreOptions struct {
	CustodianOptions
	Out string
}

func newRestoreCommand() *cobra.Command {
	var opts RestoreOptions
	c := &cobra.Command{
		Use:   "restore --vault DIR --identity FILE --reason TEXT -o DIR CODE...",
		Short: "Custodian: decrypt the originals of photo or subject codes (logged)",
		Long: `restore decrypts the original of each photo code, or of every photo of a
subject code, into DIR as <photo code>-<original name>. A file is written
under a temporary name and kept only when its SHA-256 equals the one sealed in
the photo's record; existing files are never overwritten.

As with reveal, veil first verifies the log, then logs the access with the
reason, signed by the custodian, and only then decrypts.`,
		Example: `  veil restore --vault /srv/veil --identity /media/safe/custodian.age \
      --reason "litigation hold 2025-03" -o /media/safe/originals 8b0e6c1d-2f3a-4b5c-8d9e-0f1a2b3c4d5e`,
		Args: argsRange(1, -1, "a photo or subject code"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkCustodianArgs(c, opts.CustodianOptions, args); err != nil {
				return err
			}
			if opts.Out == "" {
				return usageError{err: errors.New("restore: -o DIR is required"), cmd: c.CommandPath()}
			}
			return runRestore(c.Context(), opts, args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addCustodianFlags(c, &opts.CustodianOptions)
	c.Flags().StringVarP(&opts.Out, "out", "o", "", "`DIR` to write the originals to (created, mode 0700)")
	return c
}

func runRestore(ctx context.Context, opts RestoreOptions, codes []string, stdout, stderr io.Writer) error {
	// Fail on an unusable output folder before anything is logged.
	if err := os.MkdirAll(opts.Out, 0o700); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	g, err := logAccess(ctx, opts.CustodianOptions, manifest.ActionRestore, codes, stderr)
	if err != nil {
		return err
	}
	photos := g.photos(codes)
	failed := 0
	for _, p := range photos {
		if err := ctx.Err(); err != nil {
			return err
		}
		path, size, err := g.restorePhoto(opts.Out, p)
		if err != nil {
			fmt.Fprintf(stderr, "veil: photo %s: %s\n", p.rec.Photo, oneLine(err.Error()))
			failed++
			continue
		}
		fmt.Fprintf(stdout, "restored %s to %s (%d bytes, sha256 matches the record)\n", p.rec.Photo, path, size)
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %s could not be restored (see above)", errSomeFailed, failed, plural(len(photos), "original"))
	}
	return nil
}

// restorePhoto decrypts one original into dir and returns its path. The
// file is committed only if its SHA-256 is the one sealed at ingest.
func (g *accessGrant) restorePhoto(dir string, p *loggedPhoto) (string, int64, error) {
	d, err := manifest.Unseal(p.rec.Sealed, g.custodian.Identity)
	if err != nil {
		return "", 0, err
	}
	target := filepath.Join(dir, p.rec.Photo+"-"+safeName(d.Name, p.rec))
	f, err := atomicfile.Create(target, 0o600)
	if err != nil {
		return "", 0, err
	}
	defer f.Abort()
	ref := vault.BlobRef{Hash: p.rec.Blob.SHA256, Size: p.rec.Blob.Size, PlainSHA256: d.SHA256, PlainSize: d.Size}
	rc, err := g.vault.OpenBlobRef(ref, g.custodian)
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
		return "", 0, fmt.Errorf("decrypted original has sha256 %s, but its record says %s; not written", got, d.SHA256)
	}
	if err := f.Commit(true); err != nil {
		return "", 0, err
	}
	return target, n, nil
}

// safeName keeps the original base name for the custodian's benefit, but
// never lets it choose a directory.
func safeName(name string, r *manifest.Ingest) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == ".." || name == "/" || name == "" || strings.HasPrefix(name, ".") {
		return "original." + r.Format
	}
	return name
}
