package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// compareKeys names each way the keys found in the vault's file object
// differ from the pinned auditor.pub.
func compareKeys(object string, pinned, found vault.PublicKeys) []manifest.Finding {
	if pinned.Equal(found) {
		return nil
	}
	var out []manifest.Finding
	add := func(what string) {
		out = append(out, manifest.Finding{Record: -1, Check: CheckKeys, Object: object,
			Problem: what + " from the pinned auditor.pub (keys replaced?)"})
	}
	if pinned.VaultID != found.VaultID {
		add("vault id differs")
	}
	if pinned.LogVerifier != found.LogVerifier {
		add("log verifier key differs")
	}
	if !slices.Equal(pinned.CustodianVerifiers, found.CustodianVerifiers) {
		add("custodian verifier keys differ")
	}
	if !slices.Equal(pinned.Recipients, found.Recipients) {
		add("recipients differ")
	}
	return out
}

// vaultAuditorPub compares the vault's own copy of auditor.pub with the
// pinned one. An auditor who pinned the file once and later reads the
// vault's copy (as the docs once showed) must learn that it changed.
func vaultAuditorPub(v *vault.Vault, pinned vault.PublicKeys) ([]manifest.Finding, error) {
	const object = "auditor.pub in the vault"
	bad := func(format string, args ...any) []manifest.Finding {
		return []manifest.Finding{{Record: -1, Check: CheckKeys, Object: object, Problem: fmt.Sprintf(format, args...)}}
	}
	b, err := os.ReadFile(v.AuditorPubPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad("missing (veil init writes it; someone removed it)"), nil
	case err != nil:
		return nil, fmt.Errorf("audit: %w", err)
	}
	found, err := vault.ParseAuditorPub(b)
	if err != nil {
		return bad("unreadable: %v", err), nil
	}
	return compareKeys(object, pinned, *found), nil
}

// InsideVault reports whether path lies inside the vault v. Keys read from
// there prove nothing: whoever can change the vault can change them too, so
// an auditor's pinned auditor.pub must be kept elsewhere.
func InsideVault(v *vault.Vault, path string) (bool, error) {
	dir, err := realPath(v.Dir())
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	p, err := realPath(path)
	if err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false, nil // on another volume
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// realPath is path made absolute with every symbolic link resolved, so that
// a link to the vault's file is recognised as inside it.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}
