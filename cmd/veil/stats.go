package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
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

		Long:    helpLong("stats"),
		Example: helpExample("stats"),

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

// statsJSON is the --json form of stats.Stats.
type statsJSON struct {
	Records     int64           `json:"records"`
	Photos      int64           `json:"photos"`
	Subjects    int64           `json:"subjects"`
	Duplicates  int64           `json:"duplicates"`
	Quarantines int64           `json:"quarantined"`
	Accesses    int64           `json:"access_events"`
	BlobBytes   int64           `json:"blob_bytes"`
	LogBytes    int64           `json:"log_bytes"`
	Checkpoint  *checkpointJSON `json:"checkpoint"`
	LastAccess  *accessJSON     `json:"last_access"`
}

type checkpointJSON struct {
	Size       int64     `json:"size"`
	Root       string    `json:"root"`
	Signed     time.Time `json:"signed"`
	AgeSeconds int64     `json:"age_seconds"`
	Covers     bool      `json:"covers_log"`
}

type accessJSON struct {
	Record int64     `json:"record"`
	Action string    `json:"action"`
	Codes  int       `json:"codes"`
	Time   time.Time `json:"time"`
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
	now := time.Now()
	if opts.JSON {
		out := statsJSON{Records: s.Records, Photos: s.Photos, Subjects: s.Subjects, Duplicates: s.Duplicates,
			Quarantines: s.Quarantines, Accesses: s.Accesses, BlobBytes: s.BlobBytes, LogBytes: s.LogBytes}
		if c := s.Checkpoint; c != nil {
			out.Checkpoint = &checkpointJSON{Size: c.Size, Root: c.Root, Signed: c.Written,
				AgeSeconds: int64(now.Sub(c.Written).Seconds()), Covers: c.Covers}
		}
		if a := s.LastAccess; a != nil {
			out.LastAccess = &accessJSON{Record: a.Record, Action: a.Action, Codes: a.Codes, Time: a.Time}
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "vault        %s\n", opts.Vault)
	fmt.Fprintf(stdout, "records      %d (%s of %s, %s, %s, %s)\n", s.Records,
		plural(int(s.Photos), "photo"), plural(int(s.Subjects), "subject"), plural(int(s.Duplicates), "duplicate"),
		plural(int(s.Quarantines), "quarantine"), plural(int(s.Accesses), "access event"))
	fmt.Fprintf(stdout, "blobs        %d bytes of encrypted originals\n", s.BlobBytes)
	fmt.Fprintf(stdout, "log          %d bytes\n", s.LogBytes)
	if c := s.Checkpoint; c == nil {
		fmt.Fprintf(stdout, "checkpoint   none yet\n")
	} else {
		fmt.Fprintf(stdout, "checkpoint   %s, root %s, signed %s (%s ago)\n", plural(int(c.Size), "record"), c.Root,
			c.Written.Format(time.RFC3339), now.Sub(c.Written).Round(time.Second))
		if !c.Covers {
			fmt.Fprintf(stdout, "             covers %d of the %d records: an ingest may be running; if not, run veil verify\n", c.Size, s.Records)
		}
	}
	if a := s.LastAccess; a == nil {
		fmt.Fprintf(stdout, "last access  none\n")
	} else {
		fmt.Fprintf(stdout, "last access  record %d: %s of %s at %s\n", a.Record, a.Action, plural(a.Codes, "code"), a.Time.UTC().Format(time.RFC3339))
	}
	return nil
}
