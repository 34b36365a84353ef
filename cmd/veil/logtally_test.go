package main

import (
	"fmt"
	"path/filepath"

	"filippo.io/age"
	"github.com/veil-photo/veil/manifest"
)

// logTally is what the log says happened to each source file of an inbox,
// read from the sealed detail of every record: the accounting that the crash
// trials and the watch tests check against the files they put in.
type logTally struct {
	logged      map[string]int    // ingest and duplicate records, by source path relative to the inbox
	quarantined map[string]int    // quarantine records, by source path
	ingested    map[string]int    // ingest records, by sha256 of the original
	shaOf       map[string]string // source path -> sha256 of the original, from its ingest record
	ingests     int
}

// tallyLog unseals every ingest, duplicate and quarantine record of the log
// in logDir with the custodian identity id.
func tallyLog(logDir, inbox string, id age.Identity) (*logTally, error) {
	lt := &logTally{logged: map[string]int{}, quarantined: map[string]int{}, ingested: map[string]int{}, shaOf: map[string]string{}}
	err := manifest.Scan(logDir, func(i int64, line []byte) error {
		r, err := manifest.Parse(line)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		var sealed string
		switch r := r.(type) {
		case *manifest.Ingest:
			sealed = r.Sealed
		case *manifest.Duplicate:
			sealed = r.Sealed
		case *manifest.Quarantine:
			sealed = r.Sealed
		default:
			return nil
		}
		d, err := manifest.Unseal(sealed, id)
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		rel, err := filepath.Rel(inbox, d.Path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch r.(type) {
		case *manifest.Quarantine:
			lt.quarantined[rel]++
		case *manifest.Ingest:
			lt.ingests++
			lt.logged[rel]++
			lt.ingested[d.SHA256]++
			lt.shaOf[rel] = d.SHA256
		default:
			lt.logged[rel]++
		}
		return nil
	})
	return lt, err
}
