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

// loggedKeys compares the keys a custodian committed in the log (the latest
// config record) with vault.json and with the auditor's pinned keys. Ingest
// encrypts to vault.json's recipients, so a recipient there that no
// custodian committed is how originals would be redirected.
func loggedKeys(rep *manifest.Report, found vault.PublicKeys, pinned *vault.PublicKeys) []manifest.Finding {
	if rep.Config == nil {
		return []manifest.Finding{{Record: -1, Check: manifest.CheckConfig, Object: "log",
			Problem: "holds no valid config record: no custodian committed the vault's keys (a vault made by an older veil, its config record removed, or signed by a key not pinned); the custodian runs 'veil rekey' once"}}
	}
	var out []manifest.Finding
	for _, d := range rep.Config.Differences(found.VaultID, found.Recipients, found.LogVerifier, found.CustodianVerifiers) {
		out = append(out, manifest.Finding{Record: rep.ConfigRecord, Check: manifest.CheckConfig, Object: "vault.json",
			Problem: d + " (vault.json was changed without a custodian: new originals may be encrypted to a key no custodian holds)"})
	}
	if pinned != nil {
		p := *pinned
		for _, d := range rep.Config.Differences(p.VaultID, p.Recipients, p.LogVerifier, p.CustodianVerifiers) {
			out = append(out, manifest.Finding{Record: rep.ConfigRecord, Check: manifest.CheckConfig, Object: "pinned auditor.pub",
				Problem: d + " (the custodian changed the keys after you pinned them: check this config record, then pin the vault's new auditor.pub)"})
		}
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
