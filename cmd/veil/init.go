package main

import (
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/vault"
)

// InitOptions are the flags of 'veil init'.
type InitOptions struct {
	Vault          string
	CustodianOut   string
	PassphraseFile string
	PassphraseCmd  string
	Recipients     []string
}

// minPassphraseLen is the shortest custodian passphrase accepted: it is all
// that stands between a stolen custodian file and every original photo.
const minPassphraseLen = 10

func newInitCommand() *cobra.Command {
	var opts InitOptions
	c := &cobra.Command{
		Use:   "init --vault DIR --custodian-out FILE",
		Short: "Create a vault and the custodian identity that alone can reverse codes",
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" || opts.CustodianOut == "" {
				return usagef(c, "--vault and --custodian-out are required")
			}
			return runInit(opts, c.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the new vault (new or empty)")
	f.StringVar(&opts.CustodianOut, "custodian-out", "", "`FILE` to write the passphrase-protected custodian identity to (never overwritten)")
	f.StringVar(&opts.PassphraseFile, "passphrase-file", "", "read the custodian passphrase from `FILE` instead of the terminal")
	f.StringVar(&opts.PassphraseCmd, "passphrase-command", "", "run `CMD` through the shell and use the first line it prints as the custodian passphrase")
	f.StringArrayVar(&opts.Recipients, "custodian-recipient", nil, "also encrypt originals to this age public key (`age1...`); repeatable")
	return c
}

func runInit(opts InitOptions, out io.Writer) error {
	// Refuse before asking for a passphrase that would be typed in vain.
	if err := vault.CheckInit(opts.Vault, opts.CustodianOut); err != nil {
		return err
	}
	for _, r := range opts.Recipients {
		if _, err := age.ParseX25519Recipient(r); err != nil {
			return usageError{err: fmt.Errorf("--custodian-recipient %q is not an age public key (age1...)", r), cmd: "veil init"}
		}
	}
	pass, err := readPassphrase(opts.PassphraseFile, opts.PassphraseCmd, true, "passphrase for the custodian file")
	if err != nil {
		return err
	}
	if len(pass) < minPassphraseLen {
		return fmt.Errorf("the passphrase is too short: use at least %d characters", minPassphraseLen)
	}
	v, err := custody.Init(opts.Vault, opts.CustodianOut, vault.InitOptions{Passphrase: pass, ExtraRecipients: opts.Recipients})
	if err != nil {
		return err
	}
	if !globalOpts.Quiet || globalOpts.JSON {
		ui.PrintCreated(out, v.Dir(), v.Config(), opts.CustodianOut, globalOpts.JSON)
	}
	return nil
}
