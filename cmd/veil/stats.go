package main

import (
	"context"
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
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usagef(c, "--vault is required")
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
