package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/custody"
	"github.com/veil-photo/veil/internal/ui"
)

// RekeyOptions are the flags of veil rekey.
type RekeyOptions struct {
	Vault          string
	Identity       string
	PassphraseFile string
	PassphraseCmd  string
	Add, Remove    []string
}

func newRekeyCommand() *cobra.Command {
	var opts RekeyOptions
	c := &cobra.Command{
		Use:   "rekey --vault DIR --identity FILE [--add-recipient AGE1...] [--remove-recipient AGE1...]",
		Short: "Custodian: change who originals are encrypted to (logged, signed)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" || opts.Identity == "" {
				return usagef(c, "--vault and --identity are required")
			}
			return runRekey(c.Context(), opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault")
	f.StringVar(&opts.Identity, "identity", "", "custodian identity `FILE` written by veil init")
	f.StringVar(&opts.PassphraseFile, "passphrase-file", "", "read the custodian passphrase from `FILE` instead of the terminal")
	f.StringVar(&opts.PassphraseCmd, "passphrase-command", "", "run `CMD` through the shell and use the first line it prints as the custodian passphrase")
	f.StringArrayVar(&opts.Add, "add-recipient", nil, "age `RECIPIENT` (age1...) to encrypt new originals to as well (repeatable)")
	f.StringArrayVar(&opts.Remove, "remove-recipient", nil, "age `RECIPIENT` to stop encrypting new originals to (repeatable)")
	return c
}

func runRekey(ctx context.Context, opts RekeyOptions, stdout, stderr io.Writer) error {
	cv, id, _, err := openCustody(CustodianOptions{Vault: opts.Vault, Identity: opts.Identity, PassphraseFile: opts.PassphraseFile, PassphraseCmd: opts.PassphraseCmd})
	if err != nil {
		return err
	}
	done, err := cv.Rekey(ctx, id, custody.KeyChange{Add: opts.Add, Remove: opts.Remove})
	if err != nil {
		return custodyError(err, CustodianOptions{Vault: opts.Vault, Identity: opts.Identity}, stderr)
	}
	ui.PrintRekeyed(stdout, stderr, opts.Vault, done)
	return nil
}
