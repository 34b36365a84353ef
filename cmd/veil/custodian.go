package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// CustodianOptions are the flags reveal and restore share.
type CustodianOptions struct {
	Vault          string
	Identity       string
	PassphraseFile string
	Reason         string
}

// custodianLockWait is how long reveal and restore wait for a running ingest
// to release the vault.
const custodianLockWait = 30 * time.Second

func addCustodianFlags(c *cobra.Command, o *CustodianOptions) {
	f := c.Flags()
	f.StringVar(&o.Vault, "vault", "", "`DIR` of the vault")
	f.StringVar(&o.Identity, "identity", "", "custodian identity `FILE` written by veil init")
	f.StringVar(&o.PassphraseFile, "passphrase-file", "", "read the custodian passphrase from `FILE` instead of the terminal")
	f.StringVar(&o.Reason, "reason", "", "why the codes are reversed; logged and visible to auditors, so no patient names")
}

// checkCustodianArgs reports usage mistakes before any passphrase is asked.
func checkCustodianArgs(c *cobra.Command, o CustodianOptions, codes []string) error {
	usage := func(format string, args ...any) error {
		return usageError{err: fmt.Errorf(c.Name()+": "+format, args...), cmd: c.CommandPath()}
	}
	if o.Vault == "" || o.Identity == "" {
		return usage("--vault and --identity are required")
	}
	if strings.TrimSpace(o.Reason) == "" {
		return usage("--reason is required: say why the codes are reversed (it is logged for auditors)")
	}
	if len(o.Reason) > 1000 || strings.ContainsAny(o.Reason, "\n\r") {
		return usage("--reason must be one line of at most 1000 bytes")
	}
	for _, c := range codes {
		if !code.Valid(c) {
			return usage("%q is not a photo or subject code (a lower-case UUID)", c)
		}
	}
	return nil
}

// loggedPhoto is an ingest record found by code, with the duplicates of it.
type loggedPhoto struct {
	index int64
	rec   *manifest.Ingest
	dups  []loggedDuplicate
}

type loggedDuplicate struct {
	index int64
	rec   *manifest.Duplicate
}

// accessGrant is what a custodian may decrypt once the access is logged.
type accessGrant struct {
	vault     *vault.Vault
	custodian *vault.Custodian
	byCode    map[string][]*loggedPhoto // in log order
	record    int64                     // index of the access record
}

// logAccess does everything that must happen before a single byte is
// decrypted: it loads the custodian identity, takes the vault lock, verifies
// the log (refusing on any finding), resolves the codes, and appends an
// access record signed by the custodian, fsynced and covered by a re-signed
// checkpoint.
func logAccess(ctx context.Context, o CustodianOptions, action string, codes []string, stderr io.Writer) (*accessGrant, error) {
	v, err := vault.Open(o.Vault)
	if err != nil {
		return nil, err
	}
	pass, err := readPassphrase(o.PassphraseFile, false, "passphrase for the custodian file")
	if err != nil {
		return nil, err
	}
	cust, err := vault.LoadCustodian(o.Identity, pass)
	if err != nil {
		return nil, err
	}
	trusted, err := v.CustodianVerifiers()
	if err != nil {
		return nil, err
	}
	known := false
	for _, k := range trusted {
		known = known || k.Equal(cust.Verifier())
	}
	if !known {
		return nil, fmt.Errorf("%s is not a custodian of the vault %s (its key is not in vault.json)", o.Identity, o.Vault)
	}

	lock, err := vault.AcquireLock(ctx, v.Dir(), "veil "+action, custodianLockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Release()

	lv, err := v.LogVerifier()
	if err != nil {
		return nil, err
	}
	rep, err := manifest.Verify(ctx, manifest.VerifyOptions{
		LogDir: v.LogDir(), Origin: v.Origin(), LogVerifier: lv, CustodianKeys: trusted,
	})
	if err != nil {
		return nil, err
	}
	if !rep.OK() {
		for _, f := range rep.Findings {
			fmt.Fprintf(stderr, "veil: %s\n", oneLine(f.String()))
		}
		return nil, fmt.Errorf("%w: the log has %s; nothing was revealed (run veil verify and investigate first)",
			errVerifyFailed, plural(len(rep.Findings)+rep.Omitted, "finding"))
	}

	g := &accessGrant{vault: v, custodian: cust, byCode: map[string][]*loggedPhoto{}}
	if err := g.resolve(codes); err != nil {
		return nil, err
	}

	signer, err := v.LogSigner()
	if err != nil {
		return nil, err
	}
	l, err := manifest.Open(v.LogDir(), v.Origin(), signer)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	a := &manifest.Access{Action: action, Codes: codes, Reason: o.Reason, Time: time.Now()}
	if err := manifest.SignAccess(a, cust.SigningKey); err != nil {
		return nil, err
	}
	if g.record, err = l.Append([]manifest.Record{a}); err != nil {
		return nil, fmt.Errorf("logging the access failed, so nothing was decrypted: %w", err)
	}
	fmt.Fprintf(stderr, "veil: logged %s of %s as record %d, signed by the custodian key\n", action, plural(len(codes), "code"), g.record)
	return g, nil
}

// resolve finds the ingest records the codes name, and their duplicates,
// reading public fields only. An unknown code is an error before anything
// is logged.
func (g *accessGrant) resolve(codes []string) error {
	want := map[string]bool{}
	for _, c := range codes {
		want[c] = true
	}
	photos := map[string]*loggedPhoto{}
	err := manifest.Scan(g.vault.LogDir(), func(i int64, line []byte) error {
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err) // verify passed, so this is a race with a writer
		}
		switch r := r.(type) {
		case *manifest.Ingest:
			if want[r.Photo] || want[r.Subject] {
				p := &loggedPhoto{index: i, rec: r}
				photos[r.Photo] = p
				if want[r.Photo] {
					g.byCode[r.Photo] = append(g.byCode[r.Photo], p)
				}
				if want[r.Subject] {
					g.byCode[r.Subject] = append(g.byCode[r.Subject], p)
				}
			}
		case *manifest.Duplicate:
			if p := photos[r.Of]; p != nil {
				p.dups = append(p.dups, loggedDuplicate{index: i, rec: r})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var unknown []string
	for _, c := range codes {
		if len(g.byCode[c]) == 0 {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("no photo or subject in this vault has the code %s; nothing was logged or revealed", strings.Join(unknown, ", "))
	}
	return nil
}

// photos returns the photos the grant covers, each once, in the order of
// the codes.
func (g *accessGrant) photos(codes []string) []*loggedPhoto {
	seen := map[*loggedPhoto]bool{}
	var out []*loggedPhoto
	for _, c := range codes {
		for _, p := range g.byCode[c] {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// errSomeFailed is wrapped when a custodian command could not finish every code.
var errSomeFailed = errors.New("not every code could be completed")
