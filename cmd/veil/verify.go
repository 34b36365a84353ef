package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/audit"
	"github.com/veil-photo/veil/manifest"
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
		Long: `verify is the auditor's command. With public keys only, it recomputes the
Merkle tree of the log and checks the signed checkpoint; checks every record's
schema and every access record's custodian signature; checks that every
encrypted original is present with the logged hash and size and that no blob
lacks a record; and with --release, that every released file has the logged
hash, that no released file is unknown to the log, and that index.csv lists
every logged photo exactly as logged (subject, phase, format, size, hash),
once and in log order.

--pub FILE is the auditor.pub you pinned when the vault was created, kept
outside the vault: keys are then taken from it, and a vault.json or a
VAULT/auditor.pub whose keys differ is a finding. Without --pub, or with the
vault's own copy, verify trusts keys that whoever controls the vault can
replace, which proves nothing against them.

--checkpoint FILE keeps the log's signed checkpoint between audits: the first
run stores it; later runs prove that the log still contains it (a log rolled
back or rewritten, even with the log key, is a finding) and then advance it.

Each finding is one line; exit status 3 means at least one finding.`,
		Example: `  veil verify --vault /srv/veil/vault --pub auditor.pub --checkpoint veil.checkpoint
  veil verify --vault /srv/veil/vault --pub auditor.pub --release /srv/release --json`,
		Args: argsRange(0, 0, ""),
		RunE: func(c *cobra.Command, args []string) error {
			if opts.Vault == "" {
				return usageError{err: errors.New("verify: --vault is required"), cmd: c.CommandPath()}
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

type verifySummary struct {
	Records     int64   `json:"records"`
	Photos      int64   `json:"photos"`
	Subjects    int64   `json:"subjects"`
	Duplicates  int64   `json:"duplicates"`
	Quarantined int64   `json:"quarantined"`
	Access      int64   `json:"access_events"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	Findings    int     `json:"findings"`
	Checkpoint  int64   `json:"checkpoint_size"`
	Trusted     string  `json:"keys_from"` // "pub" or "vault"
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

	sum := verifySummary{
		Records: rep.Records, Photos: rep.Photos, Subjects: rep.Subjects, Duplicates: rep.Duplicates,
		Quarantined: rep.Quarantines, Access: rep.Accesses, Bytes: rep.Bytes,
		Seconds: time.Since(start).Seconds(), Findings: len(rep.Findings) + rep.Omitted, Trusted: keysFrom,
	}
	if rep.Checkpoint != nil {
		sum.Checkpoint = rep.Checkpoint.N
	}
	enc := newEventLog(stdout, "")
	for _, f := range rep.Findings {
		if opts.JSON {
			enc.Encode(struct {
				Finding manifest.Finding `json:"finding"`
			}{f})
		} else {
			fmt.Fprintln(stdout, oneLine(f.String()))
		}
	}
	if rep.Omitted > 0 && !opts.JSON {
		fmt.Fprintf(stdout, "... and %d more findings\n", rep.Omitted)
	}
	// Every reversal of a code is shown, marked new when it came after the
	// auditor's pinned checkpoint: that is what a nightly audit reads.
	for _, a := range rep.AccessLog {
		isNew := rep.Pinned == nil || a.Record >= rep.Pinned.N
		if opts.JSON {
			enc.Encode(struct {
				Access manifest.AccessEvent `json:"access"`
				New    bool                 `json:"new"`
			}{a, isNew})
			continue
		}
		mark := ""
		if isNew && rep.Pinned != nil {
			mark = " (new)"
		}
		fmt.Fprintf(stdout, "access: record %d%s: %s %s of %s by custodian %s: %q\n", a.Record, mark,
			a.Time.UTC().Format(time.RFC3339), a.Action, plural(len(a.Codes), "code"), shortKey(a.Custodian), a.Reason)
	}

	pinMsg := ""
	if opts.Checkpoint != "" && sum.Findings == 0 {
		pinMsg, err = advancePin(opts.Checkpoint, rep)
		if err != nil {
			return err
		}
	}
	if opts.JSON {
		enc.Encode(struct {
			Summary verifySummary `json:"summary"`
		}{sum})
	} else if !globalOpts.Quiet || sum.Findings > 0 {
		result := "ok"
		if sum.Findings > 0 {
			result = plural(sum.Findings, "finding")
		}
		fmt.Fprintf(stdout, "verified %s (%s, %s, %s, %s, %s), %d bytes in blobs, %.1f s: %s\n",
			plural(int(sum.Records), "record"), plural(int(sum.Photos), "photo"), plural(int(sum.Subjects), "subject"),
			plural(int(sum.Duplicates), "duplicate"), plural(int(sum.Quarantined), "quarantine"),
			plural(int(sum.Access), "access event"), sum.Bytes, sum.Seconds, result)
	}
	if pinMsg != "" {
		fmt.Fprintln(stderr, "veil: "+pinMsg)
	}
	if sum.Findings > 0 {
		return errVerifyFailed
	}
	return nil
}

// advancePin pins the verified checkpoint (see audit.AdvancePin) and says
// what it did.
func advancePin(path string, rep *manifest.Report) (string, error) {
	up, err := audit.AdvancePin(path, rep)
	switch {
	case err != nil:
		return "", fmt.Errorf("--checkpoint: %w", err)
	case rep.Checkpoint == nil:
		return "the log has no checkpoint yet; nothing pinned", nil
	case !up.Wrote:
		return "", nil
	case !up.Had:
		return fmt.Sprintf("pinned the checkpoint of %s in %s", plural(int(up.To), "record"), path), nil
	}
	return fmt.Sprintf("advanced %s from %d to %d records", path, up.From, up.To), nil
}

// plural formats a count with its noun: "1 record", "2 records".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shortKey abbreviates a base64 public key for display.
func shortKey(k string) string {
	if len(k) > 12 {
		return k[:12] + "…"
	}
	return k
}
