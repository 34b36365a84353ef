package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/internal/ui"
	"github.com/veil-photo/veil/vault"
)

// VerifyOptions are the flags of veil verify.
type VerifyOptions struct {
	Vault      string
	Pub        string
	Release    string
	Checkpoint string
	JSON       bool
}

func newVerifyCommand() *cobra.Command {
	var opts VerifyOptions
	c := &cobra.Command{
		Use:   "verify --vault DIR [--pub FILE] [--release DIR] [--checkpoint FILE]",
		Short: "Audit the vault's signed log, its blobs and the release folder (public keys only)",
		Args:  argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usagef(c, "--vault is required")
			}
			return runVerify(c.Context(), opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Vault, "vault", "", "`DIR` of the vault to audit")
	f.StringVar(&opts.Pub, "pub", "", "pinned public keys (auditor.pub) to verify with, instead of the vault's own")
	f.StringVar(&opts.Release, "release", "", "also audit the release folder `DIR`")
	f.StringVar(&opts.Checkpoint, "checkpoint", "", "`FILE` holding the checkpoint of the previous audit (created on first use)")
	f.BoolVar(&opts.JSON, "json", false, "print findings and the summary as JSON lines")
	return c
}

func runVerify(ctx context.Context, opts VerifyOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	// An audit changes nothing in the vault, not even a crashed writer's
	// temporary files (the next ingest removes those).
	v, err := vault.OpenReadOnly(opts.Vault)
	if err != nil {
		return err
	}
	var pinnedKeys *vault.PublicKeys
	keysFrom := "vault"
	if opts.Pub != "" {
		b, err := os.ReadFile(opts.Pub)
		if err != nil {
			return fmt.Errorf("--pub: %w", err)
		}
		if pinnedKeys, err = vault.ParseAuditorPub(b); err != nil {
			return fmt.Errorf("--pub %s: %w", opts.Pub, err)
		}
		keysFrom = "pub"
		inside, err := audit.InsideVault(v, opts.Pub)
		if err != nil {
			return err
		}
		if inside {
			fmt.Fprintf(stderr, "veil: warning: --pub %s is inside the vault: whoever can change the vault can change it too, so it proves nothing; pass the auditor.pub you copied out of the vault at init\n", opts.Pub)
		}
	} else {
		fmt.Fprintf(stderr, "veil: warning: no --pub: trusting the keys in %s/vault.json itself; pin auditor.pub and pass --pub for an independent audit\n", opts.Vault)
	}

	var pinnedCP []byte
	if opts.Checkpoint != "" {
		if pinnedCP, err = audit.ReadPin(opts.Checkpoint); err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
	}

	rep, err := audit.Run(ctx, v, audit.Options{PinnedKeys: pinnedKeys, PinnedCheckpoint: pinnedCP, Release: opts.Release})
	if err != nil {
		return err
	}

	pr := ui.NewVerifyPrinter(stdout, opts.JSON)
	sum := ui.NewVerifySummary(rep, time.Since(start).Seconds(), keysFrom)
	pr.Report(rep)

	pinMsg := ""
	if opts.Checkpoint != "" && sum.Findings == 0 {
		up, err := audit.AdvancePin(opts.Checkpoint, rep)
		if err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
		pinMsg = ui.PinNote(opts.Checkpoint, rep, up)
	}
	pr.Summary(sum, globalOpts.Quiet)
	if pinMsg != "" {
		fmt.Fprintln(stderr, "veil: "+pinMsg)
	}
	if sum.Findings > 0 {
		return errVerifyFailed
	}
	return nil
}
