package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/stats"
	"github.com/veil-photo/veil/vault"
)

// StatsOptions are the flags of veil stats.
type StatsOptions struct {
	Vault string
	JSON  bool
}

func newStatsCommand() *cobra.Command {
	var opts StatsOptions
	c := &cobra.Command{
		Use:   "stats --vault DIR [--json]",
		Short: "Summarise a vault: photos, subjects, duplicates, quarantines, sizes, checkpoint, last access",
		Long: `stats reads the vault's log and prints what anyone allowed to see the log may
see: how many photos, subjects, duplicates and quarantines were logged, the
bytes of encrypted originals and of the log, the signed checkpoint (records,
root hash, when it was signed), and the last access event (record, action,
number of codes, time).

It shows no codes and no access reasons: a reason is text a custodian typed
and could name a patient, and stats is meant for monitoring and mail. Auditors
read every access in full with veil verify.

stats is a quick look, not an audit: it decodes every record and checks the
checkpoint's signature with the vault's own key, but does not recompute the
Merkle tree, check custodian signatures or look at blobs. Run veil verify for
that. It needs no key and changes nothing; it does not wait for a running
ingest.

Exit status: 0 ok, 1 error (no vault, a record that does not decode, a
checkpoint that does not verify), 2 usage.`,
		Example: `  veil stats --vault /srv/veil
  veil stats --vault /srv/veil --json | jq .photos`,
		Args: argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usageError{err: errors.New("stats: --vault is required"), cmd: c.CommandPath()}
			}
			return runStats(c.Context(), opts, c.OutOrStdout())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as one JSON object")
	return c
}

func runStats(ctx context.Context, opts StatsOptions, stdout io.Writer) error {
	v, err := vault.OpenReadOnly(opts.Vault)
	if err != nil {
		return err
	}
	s, err := stats.Read(ctx, v)
	if err != nil {
		return err
	}
	return ui.PrintStats(stdout, opts.Vault, s, time.Now(), opts.JSON)
}
