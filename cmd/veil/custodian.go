package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// CustodianOptions are the flags reveal and restore share.
type CustodianOptions struct {
	Vault          string
	Identity       string
	PassphraseFile string
	PassphraseCmd  string
	Reason         string
	Receipt        string
}

func addCustodianFlags(c *cobra.Command, o *CustodianOptions) {
	f := c.Flags()
	f.StringVar(&o.Vault, "vault", "", "`DIR` of the vault")
	f.StringVar(&o.Identity, "identity", "", "custodian identity `FILE` written by veil init")
	f.StringVar(&o.PassphraseFile, "passphrase-file", "", "read the custodian passphrase from `FILE` instead of the terminal")
	f.StringVar(&o.PassphraseCmd, "passphrase-command", "", "run `CMD` through the shell and use the first line it prints as the custodian passphrase")
	f.StringVar(&o.Reason, "reason", "", "why the codes are reversed; logged and visible to auditors, so no patient names")
	f.StringVar(&o.Receipt, "receipt", "", "write the signed checkpoint that covers this access to `FILE`, for the auditor ('veil verify --checkpoint FILE' then shows if the access is ever erased); if FILE holds an earlier receipt, the log must still contain it (a rolled-back log or another vault swapped in cannot), so keep one file and give it every time")
}

// checkCustodianArgs reports usage mistakes before any passphrase is asked,
// and returns the codes.
func checkCustodianArgs(c *cobra.Command, o CustodianOptions, args []string) ([]code.Code, error) {
	if o.Vault == "" || o.Identity == "" {
		return nil, usagef(c, "--vault and --identity are required")
	}
	if strings.TrimSpace(o.Reason) == "" {
		return nil, usagef(c, "--reason is required: say why the codes are reversed (it is logged for auditors)")
	}
	if !manifest.ValidReason(o.Reason) {
		return nil, usagef(c, "--reason must be one line of at most 1000 bytes of text, without control characters")
	}
	codes := make([]code.Code, len(args))
	for i, a := range args {
		var err error
		if codes[i], err = code.Parse(a); err != nil {
			return nil, usagef(c, "%q is not a photo or subject code (a lower-case UUID)", a)
		}
	}
	return codes, nil
}

// openCustody opens the vault, and only then asks for the passphrase and
// decrypts the custodian identity, so that a wrong --vault fails before the
// custodian types anything.
// The pinned receipt, the one --receipt FILE holds from an earlier access,
// is returned with them (nil when there is none yet).
func openCustody(o CustodianOptions) (*custody.Vault, *vault.Custodian, []byte, error) {
	cv, err := custody.Open(o.Vault)
	if err != nil {
		return nil, nil, nil, err
	}
	var pinned []byte
	if o.Receipt != "" {
		if pinned, err = audit.ReadPin(o.Receipt); err != nil {
			return nil, nil, nil, fmt.Errorf("--receipt: %w", err)
		}
	}
	pass, err := readPassphrase(o.PassphraseFile, o.PassphraseCmd, false, "passphrase for the custodian file")
	if err != nil {
		return nil, nil, nil, err
	}
	id, err := vault.LoadCustodian(o.Identity, pass)
	if err != nil {
		return nil, nil, nil, err
	}
	return cv, id, pinned, nil
}

// custodyError turns a refused access into what the custodian reads: the
// findings of a dirty log one per line and exit 3, or a one-line reason.
func custodyError(err error, o CustodianOptions, stderr io.Writer) error {
	var dirty *custody.DirtyLogError
	var unknown *custody.UnknownCodesError
	switch {
	case errors.As(err, &dirty):
		for _, f := range dirty.Findings {
			fmt.Fprintf(stderr, "veil: %s\n", ui.OneLine(f.String()))
		}
		return fmt.Errorf("%w: the log has %s; nothing was revealed (run veil verify and investigate first)",
			errVerifyFailed, ui.Plural(len(dirty.Findings)+dirty.Omitted, "finding"))
	case errors.As(err, &unknown):
		codes := make([]string, len(unknown.Codes))
		for i, c := range unknown.Codes {
			codes[i] = c.String()
		}
		return fmt.Errorf("no photo or subject in this vault has the code %s; nothing was logged or revealed", strings.Join(codes, ", "))
	case errors.As(err, new(*custody.KeysChangedError)):
		return fmt.Errorf("%w: %v", errVerifyFailed, err)
	case errors.Is(err, custody.ErrNotCustodian):
		return fmt.Errorf("%s is not a custodian of the vault %s (its key is not in vault.json)", o.Identity, o.Vault)
	}
	return err
}

// saveReceipt replaces file, if one was asked for, with the receipt of the
// access logged as record.
func saveReceipt(stderr io.Writer, file string, record int64, receipt []byte) error {
	if file == "" {
		return nil
	}
	if err := atomicfile.WriteFile(file, receipt, 0o644); err != nil {
		return fmt.Errorf("the access is logged (record %d), but the receipt could not be written: %v", record, filekind.Bare(err))
	}
	if !globalOpts.JSON && !globalOpts.Quiet {
		fmt.Fprintf(stderr, "veil: wrote the receipt to %s\n", file)
	}
	return nil
}

// errSomeFailed is wrapped when a custodian command could not finish every code.
var errSomeFailed = errors.New("not every code could be completed")
