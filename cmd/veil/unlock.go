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
		Long: `Remove the vault lock of a veil ingest or watch that no longer runs, and say
whose lock it was (command, pid, host, since when).

veil ingest and watch break the lock of a crashed writer on this host by
themselves; unlock is for a lock they refuse. It refuses too while the writer
named in the lock runs on this host. A lock of another host sharing the vault
needs --force: check on that host that veil no longer runs there first. A
writer touches its lock every minute; a lock of another host untouched for 10
minutes is reported as stale at once by ingest and watch, with this command.

Exit codes: 0 the lock was removed, or there was none; 1 refused or error;
2 usage.`,
		Example: `  veil unlock --vault /srv/veil
  veil unlock --vault /srv/veil --force    # the lock of another host`,
		Args: argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usageError{err: errors.New("unlock: --vault is required"), cmd: c.CommandPath()}
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
