package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/vault"
)

// UnlockOptions are the flags of veil unlock.
type UnlockOptions struct {
	Vault string
	Force bool
}

func newUnlockCommand() *cobra.Command {
	var opts UnlockOptions
	c := &cobra.Command{
		Use:   "unlock --vault DIR [--force]",
		Short: "Remove the lock a crashed writer left on the vault",
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usagef(c, "--vault is required")
			}
			return runUnlock(opts, c.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault")
	f.BoolVar(&opts.Force, "force", false, "also remove the lock of another host (check first that veil no longer runs there)")
	return c
}

func runUnlock(opts UnlockOptions, out io.Writer) error {
	r, err := vault.Unlock(opts.Vault, opts.Force)
	var fe *vault.ForeignLockError
	switch {
	case errors.Is(err, vault.ErrNotLocked):
		fmt.Fprintf(out, "%s is not locked: nothing to do\n", opts.Vault)
		return nil
	case errors.As(err, &fe):
		return fmt.Errorf("%w; then run 'veil unlock --force --vault %s'", err, opts.Vault)
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "removed the lock of %v from %s (last heartbeat %s)\n", r.Holder, r.Path, r.Heartbeat.Local().Format(time.DateTime))
	return nil
}
