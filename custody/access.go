// Package custody is the custodian's protocol for reversing codes: verify
// the log, resolve the codes, sign the access record with the custodian's
// key, append and sync it with a new signed checkpoint, and only then hand
// back a value that can decrypt. Nothing here decrypts a byte for an access
// that is not on disk first.
package custody

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// LockWait is how long an access waits for a running ingest to release the
// vault: a custodian at the terminal should not fail on a nightly run that is
// about to finish.
const LockWait = 30 * time.Second

// Vault is a vault opened for a custodian. Opening changes nothing; only an
// access writes, and only its record.
type Vault struct {
	v *vault.Vault
}

// Open opens the vault in dir without changing it (not even a crashed
// writer's temporary files), so that a refused access leaves no trace.
func Open(dir string) (*Vault, error) {
	v, err := vault.OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	return &Vault{v: v}, nil
}

// Request is what a custodian asks for. Every field goes into the access
// record, which auditors read: the reason must not name a patient.
type Request struct {
	Codes  []code.Code // photo or subject codes, in the order to answer them
	Reason string      // one line, why the codes are reversed
	// Pinned is the custodian's receipt of an earlier access, or nil: the
	// log must still contain the checkpoint it holds, which a rolled-back
	// log or another vault swapped into the folder cannot (red team,
	// PoC 9).
	Pinned []byte
}

// ErrNotCustodian is returned when the custodian's key is not one of the
// vault's custodian keys (the identity belongs to another vault).
var ErrNotCustodian = errors.New("custody: the identity is not a custodian of this vault (its key is not in vault.json)")

// DirtyLogError refuses an access because the log does not verify: a
// custodian must not act on, or add to, a log that may have been tampered
// with. Nothing was logged or decrypted.
type DirtyLogError struct {
	Findings []manifest.Finding
	Omitted  int // findings beyond manifest.MaxFindings
}

// Error says how many findings there are; the findings say what they are.
func (e *DirtyLogError) Error() string {
	return fmt.Sprintf("custody: the log has %d findings; nothing was logged or decrypted", len(e.Findings)+e.Omitted)
}

// UnknownCodesError refuses an access because some codes name no photo and
// no subject in the log. Nothing was logged or decrypted.
type UnknownCodesError struct {
	Codes []code.Code // in request order
}

// Error names the unknown codes.
func (e *UnknownCodesError) Error() string {
	return fmt.Sprintf("custody: no photo or subject in this vault has the code %s; nothing was logged or decrypted", joinCodes(e.Codes))
}

// Grant is a logged access: the record that logged it and what its codes
// resolved to. Only the Reveal or Restore that embeds it can decrypt.
type Grant struct {
	Record  int64   // index of the access record in the log
	Matches []Match // one per requested code, in request order
	// Receipt is the signed checkpoint that covers the access record: the
	// custodian hands it to the auditor, whose 'veil verify --checkpoint'
	// with it shows any later erasure or rollback of the access.
	Receipt []byte

	vault     *vault.Vault
	custodian *vault.Custodian
	granted   map[*Photo]bool
}

// access does everything that must happen before a single byte is
// decrypted: it checks that id is a custodian of the vault, takes the vault
// lock, verifies the log (refusing on any finding), resolves the codes, and
// appends the access record signed by the custodian, fsynced and covered by
// a re-signed checkpoint. The lock is released on return: decryption only
// reads.
func (cv *Vault) access(ctx context.Context, id *vault.Custodian, action string, req Request) (*Grant, error) {
	v := cv.v
	lock, err := cv.begin(ctx, id, action, req.Pinned)
	if err != nil {
		return nil, err
	}
	defer lock.Release()

	matches, err := resolve(v.LogDir(), req.Codes)
	if err != nil {
		return nil, err
	}
	record, receipt, err := appendAccess(v, id, action, req)
	if err != nil {
		return nil, err
	}
	g := &Grant{Record: record, Receipt: receipt, Matches: matches, vault: v, custodian: id, granted: map[*Photo]bool{}}
	for _, m := range matches {
		for _, p := range m.Photos {
			g.granted[p] = true
		}
	}
	return g, nil
}

// begin is what every access does first: it checks that id is a custodian
// of the vault, takes the vault lock and verifies the log, refusing on any
// finding. The caller releases the lock.
func (cv *Vault) begin(ctx context.Context, id *vault.Custodian, action string, pinned []byte) (*vault.Lock, error) {
	v := cv.v
	trusted, err := v.CustodianVerifiers()
	if err != nil {
		return nil, err
	}
	known := false
	for _, k := range trusted {
		known = known || k.Equal(id.Verifier())
	}
	if !known {
		return nil, ErrNotCustodian
	}

	lock, err := vault.AcquireLock(ctx, v.Dir(), "veil "+action, LockWait)
	if err != nil {
		return nil, err
	}
	rep, err := cv.verify(ctx, id, pinned)
	if err == nil && rep.Config != nil {
		// vault.json must name the keys a custodian committed: an access
		// on a vault whose keys were swapped would sign a lie.
		err = compareKeys(rep.Config, v.PublicKeys())
	}
	if err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}

// appendAccess signs the access record with the custodian's key and commits
// it: when it returns nil, the record, its hash and the checkpoint that
// covers it are fsynced. It is the one place an access record is made.
func appendAccess(v *vault.Vault, id *vault.Custodian, action string, req Request) (int64, []byte, error) {
	codes := make([]string, len(req.Codes))
	for i, c := range req.Codes {
		codes[i] = c.String()
	}
	record, err := appendSigned(v, func(at *manifest.Position) (manifest.Record, error) {
		a := &manifest.Access{Action: action, Codes: codes, Reason: req.Reason, Time: time.Now(), At: at}
		return a, manifest.SignAccess(a, id.SigningKey)
	})
	if err != nil {
		return 0, nil, fmt.Errorf("custody: logging the access failed, so nothing was decrypted: %w", err)
	}
	receipt, err := os.ReadFile(filepath.Join(v.LogDir(), manifest.CheckpointFile))
	if err != nil {
		return 0, nil, fmt.Errorf("custody: the access is logged (record %d) but its receipt cannot be read: %w", record, err)
	}
	return record, receipt, nil
}

// appendSigned appends the one record that sign makes for the position it
// is given: the log's end, read with the log open under the vault lock, so
// that the custodian's signature binds the record to its place (no replay
// elsewhere). It is the one place a custodian-signed record is appended.
func appendSigned(v *vault.Vault, sign func(at *manifest.Position) (manifest.Record, error)) (int64, error) {
	signer, err := v.LogSigner()
	if err != nil {
		return -1, err
	}
	l, err := manifest.Open(v.LogDir(), v.Origin(), signer)
	if err != nil {
		return -1, err
	}
	defer l.Close()
	cp, err := l.Checkpoint()
	if err != nil {
		return -1, err
	}
	r, err := sign(manifest.PositionOf(cp))
	if err != nil {
		return -1, err
	}
	return l.Append([]manifest.Record{r})
}

// verify verifies the log with the vault's custodian keys and the
// custodian's own (which anchors the first config record: the custodian
// trusts itself, not vault.json), and against the custodian's pinned
// checkpoint if any, refusing on any finding.
func (cv *Vault) verify(ctx context.Context, id *vault.Custodian, pinned []byte) (*manifest.Report, error) {
	v := cv.v
	lv, err := v.LogVerifier()
	if err != nil {
		return nil, err
	}
	trusted, err := v.CustodianVerifiers()
	if err != nil {
		return nil, err
	}
	rep, err := manifest.Verify(ctx, manifest.VerifyOptions{
		LogDir: v.LogDir(), Origin: v.Origin(), LogVerifier: lv, CustodianKeys: append(trusted, id.Verifier()),
		Pinned: pinned,
	})
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		return nil, &DirtyLogError{Findings: rep.Findings, Omitted: rep.Omitted}
	}
	return rep, nil
}

// Photos returns the photos the grant covers, each once, in the order of the
// requested codes.
func (g *Grant) Photos() []*Photo {
	seen := map[*Photo]bool{}
	var out []*Photo
	for _, m := range g.Matches {
		for _, p := range m.Photos {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// errNotGranted guards against decrypting a photo of another grant, whose
// access record named other codes.
var errNotGranted = errors.New("custody: the photo is not covered by this access")

func (g *Grant) check(p *Photo) error {
	if !g.granted[p] {
		return errNotGranted
	}
	return nil
}
