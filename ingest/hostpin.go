package ingest

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// A host pin is what this host knows of the vault it writes, kept outside
// the vault folder (Options.HostPin), where whoever can write that folder
// cannot reach: the vault's ID, its log key, and the checkpoint of the log
// as the last run left it. The lookup table keeps the checkpoint too, but
// inside the vault, where a swap of the whole vault replaces it; the host
// pin is compared before anything else and refuses any difference.
//
//	veil host pin v1
//	<vault folder, absolute>
//	<vault origin>
//	<log verifier key>
//	<records committed>
//	<base64 root of the log's tree at that size>
const hostPinHeader = "veil host pin v1"

// HostPinFile returns the host pin file, in the state folder stateDir, of
// the vault in vaultDir ("" when stateDir is ""): one per vault folder,
// named for its absolute path, so that whatever is put in that folder is
// compared with what this host last wrote there.
func HostPinFile(stateDir, vaultDir string) (string, error) {
	if stateDir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(vaultDir)
	if err != nil {
		return "", fmt.Errorf("ingest: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(stateDir, fmt.Sprintf("vault-%x.pin", sum[:8])), nil
}

// hostPin is the body of a host pin file.
type hostPin struct {
	dir, origin, verifier string
	committed             lookup.Committed
}

func (h hostPin) text() string {
	return fmt.Sprintf("%s\n%s\n%s\n%s\n%d\n%s\n", hostPinHeader, h.dir, h.origin, h.verifier, h.committed.N,
		base64.StdEncoding.EncodeToString(h.committed.Root[:]))
}

// HostPinError is returned by New when the vault is not the one the host
// pin says this host last wrote: its ID or log key differ, or its log does
// not extend the pinned checkpoint. Nothing is changed. It wraps
// manifest.ErrInconsistent.
type HostPinError struct {
	Pin     string // the pin file
	Problem string
}

func (e *HostPinError) Error() string {
	return fmt.Sprintf("ingest: %v: %s (host pin %s); nothing was changed — the vault folder's contents were replaced or rolled back: run veil verify with the auditor's pinned checkpoint, and put back what this host wrote (if the vault was restored from a backup on purpose, remove the pin to pin it anew)", manifest.ErrInconsistent, e.Problem, e.Pin)
}

func (e *HostPinError) Unwrap() error { return manifest.ErrInconsistent }

// readHostPin reads the pin at path; ok is false if there is none yet.
func readHostPin(path string) (h hostPin, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return hostPin{}, false, nil
	}
	if err != nil {
		return hostPin{}, false, fmt.Errorf("ingest: host pin: %w", err)
	}
	bad := fmt.Errorf("ingest: host pin %s is damaged; if this host's disk is at fault, remove it to pin the vault anew", path)
	lines := strings.Split(string(b), "\n")
	if len(lines) != 7 || lines[0] != hostPinHeader || lines[6] != "" {
		return hostPin{}, false, bad
	}
	h = hostPin{dir: lines[1], origin: lines[2], verifier: lines[3]}
	h.committed.N, err = strconv.ParseInt(lines[4], 10, 64)
	root, rerr := base64.StdEncoding.Strict().DecodeString(lines[5])
	if err != nil || h.committed.N < 0 || rerr != nil || len(root) != len(h.committed.Root) {
		return hostPin{}, false, bad
	}
	copy(h.committed.Root[:], root)
	if h.text() != string(b) {
		return hostPin{}, false, bad
	}
	return h, true, nil
}

// checkHostPin compares v and its log l with the pin at path, and returns
// the pin to write when the run closes; first is set if there was none.
func checkHostPin(path string, v *vault.Vault, l *manifest.Log) (pin hostPin, first bool, err error) {
	h, ok, err := readHostPin(path)
	if err != nil {
		return hostPin{}, false, err
	}
	dir, err := filepath.Abs(v.Dir())
	if err != nil {
		return hostPin{}, false, fmt.Errorf("ingest: %w", err)
	}
	now := hostPin{dir: dir, origin: v.Origin(), verifier: v.Config().LogVerifier}
	if !ok {
		// Fail now rather than at the close, after the run: the pin must
		// be saved for the next run to be held to it.
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			return hostPin{}, false, fmt.Errorf("ingest: state folder %s: not a folder veil can use for its host pin (create it, owned by the veil user, mode 0700)", filepath.Dir(path))
		}
		return now, true, nil
	}
	switch {
	case h.origin != now.origin:
		return hostPin{}, false, &HostPinError{Pin: path, Problem: fmt.Sprintf("the vault is %s, but this host pinned %s", now.origin, h.origin)}
	case h.verifier != now.verifier:
		return hostPin{}, false, &HostPinError{Pin: path, Problem: "vault.json's log key is not the one this host pinned"}
	}
	if err := checkExtends(l, h.committed); err != nil {
		var re *RollbackError
		if errors.As(err, &re) {
			return hostPin{}, false, &HostPinError{Pin: path, Problem: fmt.Sprintf("the log does not extend the checkpoint this host pinned (%d records; the log has %d)", re.Committed, re.Have)}
		}
		return hostPin{}, false, err
	}
	return now, false, nil
}

// writeHostPin saves h, durably: it is what the next run is held to.
func writeHostPin(path string, h hostPin) error {
	if err := atomicfile.WriteFile(path, []byte(h.text()), 0o600); err != nil {
		return fmt.Errorf("ingest: host pin: %w", err)
	}
	return nil
}
