package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/veil-photo/veil/stats"
)

// StatsJSON is the --json form of stats.Stats.
type StatsJSON struct {
	Records     int64           `json:"records"`
	Photos      int64           `json:"photos"`
	Subjects    int64           `json:"subjects"`
	Duplicates  int64           `json:"duplicates"`
	Quarantines int64           `json:"quarantined"`
	Accesses    int64           `json:"access_events"`
	BlobBytes   int64           `json:"blob_bytes"`
	LogBytes    int64           `json:"log_bytes"`
	Checkpoint  *CheckpointJSON `json:"checkpoint"`
	LastAccess  *AccessJSON     `json:"last_access"`
}

// CheckpointJSON is the signed checkpoint in a StatsJSON.
type CheckpointJSON struct {
	Size       int64     `json:"size"`
	Root       string    `json:"root"`
	Signed     time.Time `json:"signed"`
	AgeSeconds int64     `json:"age_seconds"`
	Covers     bool      `json:"covers_log"`
}

// AccessJSON is the last access event in a StatsJSON.
type AccessJSON struct {
	Record int64     `json:"record"`
	Action string    `json:"action"`
	Codes  int       `json:"codes"`
	Time   time.Time `json:"time"`
}

// PrintStats prints the stats of the vault dir on w as of now, as text or
// one JSON object.
func PrintStats(w io.Writer, dir string, s *stats.Stats, now time.Time, jsonOut bool) error {
	if jsonOut {
		out := StatsJSON{Records: s.Records, Photos: s.Photos, Subjects: s.Subjects, Duplicates: s.Duplicates,
			Quarantines: s.Quarantines, Accesses: s.Accesses, BlobBytes: s.BlobBytes, LogBytes: s.LogBytes}
		if c := s.Checkpoint; c != nil {
			out.Checkpoint = &CheckpointJSON{Size: c.Size, Root: c.Root, Signed: c.Written,
				AgeSeconds: int64(now.Sub(c.Written).Seconds()), Covers: c.Covers}
		}
		if a := s.LastAccess; a != nil {
			out.LastAccess = &AccessJSON{Record: a.Record, Action: a.Action, Codes: a.Codes, Time: a.Time}
		}
		return json.NewEncoder(w).Encode(out)
	}
	fmt.Fprintf(w, "vault        %s\n", dir)
	fmt.Fprintf(w, "records      %d (%s of %s, %s, %s, %s)\n", s.Records,
		Plural(int(s.Photos), "photo"), Plural(int(s.Subjects), "subject"), Plural(int(s.Duplicates), "duplicate"),
		Plural(int(s.Quarantines), "quarantine"), Plural(int(s.Accesses), "access event"))
	fmt.Fprintf(w, "blobs        %d bytes of encrypted originals\n", s.BlobBytes)
	fmt.Fprintf(w, "log          %d bytes\n", s.LogBytes)
	if c := s.Checkpoint; c == nil {
		fmt.Fprintf(w, "checkpoint   none yet\n")
	} else {
		fmt.Fprintf(w, "checkpoint   %s, root %s, signed %s (%s ago)\n", Plural(int(c.Size), "record"), c.Root,
			c.Written.Format(time.RFC3339), now.Sub(c.Written).Round(time.Second))
		if !c.Covers {
			fmt.Fprintf(w, "             covers %d of the %d records: an ingest may be running; if not, run veil verify\n", c.Size, s.Records)
		}
	}
	if a := s.LastAccess; a == nil {
		fmt.Fprintf(w, "last access  none\n")
	} else {
		fmt.Fprintf(w, "last access  record %d: %s of %s at %s\n", a.Record, a.Action, Plural(a.Codes, "code"), a.Time.UTC().Format(time.RFC3339))
	}
	return nil
}
