package ingest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/veil-photo/veil/ingest/inbox"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// CSVFile is the release folder's index (SPEC: Release folder). Ingest
// appends a row per committed photo after each batch is committed, in log
// order, and at the start of every run compares the whole file with what the
// log says it must be, rewriting it atomically if a crash left it behind.
const CSVFile = release.IndexFile

// csvHeader is the first line of CSVFile.
const csvHeader = release.Header

// csvRow is the line of CSVFile for an ingest record, as release.Row writes
// it (the interval column stays empty: the record has no interval yet).
func csvRow(r *manifest.Ingest) string {
	p, _ := code.Parse(r.Photo)
	s, _ := code.Parse(r.Subject)
	return release.Row{Photo: p, Subject: s, Phase: r.Phase, Format: r.Format,
		Width: r.Released.Width, Height: r.Released.Height, SHA256: r.Released.SHA256}.Line()
}

// lightIngest is the part of a record that ingest needs back from the log.
// The log is written by this package and audited by veil verify; reading it
// with a plain decode keeps a run's start fast on a large log.
type lightIngest struct {
	Type     string            `json:"type"`
	Photo    string            `json:"photo"`
	Subject  string            `json:"subject"`
	Phase    string            `json:"phase"`
	Format   string            `json:"format"`
	Released manifest.Released `json:"released"`
	Blob     manifest.BlobInfo `json:"blob"`
}

// catchUpLog puts what the table does not cover yet of the log in dir into
// t — committed photos, blobs and duplicate records — and feeds their rows
// of CSVFile to csv, the running hash of what that file must hold.
func catchUpLog(dir string, t *table, csv io.Writer) error {
	err := manifest.ScanFrom(dir, t.hdr.logSize, t.hdr.logCount, func(i int64, line []byte) error {
		if err := logRecord(t, csv, i, line); err != nil {
			return err
		}
		t.hdr.logCount, t.hdr.logSize, t.hdr.logTail = i+1, t.hdr.logSize+int64(len(line))+1, lineTail(line)
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// logRecord puts one committed record of the log into t and csv.
func logRecord(t *table, csv io.Writer, i int64, line []byte) error {
	head := string(line[:min(len(line), 40)])
	if strings.Contains(head, `"type":"duplicate"`) || strings.Contains(head, `"type":"quarantine"`) {
		h := sha256.Sum256(line)
		return t.put(kindRecord, slotKey(h[:16]), h)
	}
	r, err := ingestRecord(i, line)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if r == nil {
		return nil
	}
	u, err := uuid.Parse(r.Photo)
	if err != nil {
		return fmt.Errorf("ingest: log record %d: photo: %w", i, err)
	}
	var b mac
	if n, err := hex.Decode(b[:], []byte(r.Blob.SHA256)); err != nil || n != len(b) {
		return fmt.Errorf("ingest: log record %d: blob %q is not a SHA-256", i, r.Blob.SHA256)
	}
	if err := t.put(kindPhoto, slotKey(u), slotValue{}); err != nil {
		return err
	}
	if err := t.put(kindBlob, slotKey(b[:16]), slotValue(b)); err != nil {
		return err
	}
	io.WriteString(csv, r.csvRow())
	return nil
}

// ingestRecord decodes record i of the log if it is an ingest record, and
// returns nil for any other type.
func ingestRecord(i int64, line []byte) (*lightIngest, error) {
	if !strings.Contains(string(line[:min(len(line), 40)]), `"type":"ingest"`) {
		return nil, nil
	}
	var r lightIngest
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("log record %d: %w", i, err)
	}
	return &r, nil
}

// csvRow is the row of CSVFile for the record.
func (r *lightIngest) csvRow() string {
	return csvRow(&manifest.Ingest{Photo: r.Photo, Subject: r.Subject, Phase: r.Phase, Format: r.Format, Released: r.Released})
}

// writeCSV rewrites CSVFile from the log, atomically.
func writeCSV(release, logDir string) error {
	f, err := atomicfile.Create(filepath.Join(release, CSVFile), 0o644)
	if err != nil {
		return fmt.Errorf("ingest: %s: %w", CSVFile, err)
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 256<<10)
	bw.WriteString(csvHeader)
	err = manifest.Scan(logDir, func(i int64, line []byte) error {
		r, err := ingestRecord(i, line)
		if err != nil || r == nil {
			return err
		}
		_, err = bw.WriteString(r.csvRow())
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ingest: %s: %w", CSVFile, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ingest: %s: %w", CSVFile, err)
	}
	if err := f.Commit(false); err != nil {
		return fmt.Errorf("ingest: %s: %w", CSVFile, err)
	}
	return nil
}

// csvCurrent reports whether CSVFile in release has exactly the sha256 sum.
func csvCurrent(release string, sum [32]byte) bool {
	f, err := os.Open(filepath.Join(release, CSVFile))
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return [32]byte(h.Sum(nil)) == sum
}

// cleanRelease removes what a crash can leave in the release folder:
// temporary files, and released files that no record names (written, then
// the crash came before the commit point). Only names of the form
// <uuid>/<uuid>.<ext> are ever removed, so files someone else put in the
// folder are left alone (veil verify reports them). Folders are read a
// chunk at a time: memory does not grow with the release.
func cleanRelease(release string, t *table) (removed []string, err error) {
	err = inbox.Walk(release, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == release {
			return err
		}
		rel, _ := filepath.Rel(release, path)
		dir, name := filepath.Split(rel) // dir is "" at the top, "<code>/" below
		switch {
		case d.IsDir():
			if dir != "" || !isCode(name) {
				return fs.SkipDir // only <subject>/ folders hold released files
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		orphan := atomicfile.IsTemp(name)
		if stem, _, _ := strings.Cut(name, "."); dir != "" && isCode(stem) {
			logged, err := t.has(kindPhoto, slotKey(uuid.MustParse(stem)))
			if err != nil {
				return err
			}
			orphan = orphan || !logged
		}
		if orphan && os.Remove(path) == nil {
			removed = append(removed, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("ingest: release folder: %w", err)
	}
	if len(removed) > 0 {
		if err := atomicfile.SyncFS(release); err != nil {
			return removed, fmt.Errorf("ingest: release folder: %w", err)
		}
	}
	return removed, nil
}

func isCode(s string) bool { return code.Valid(s) }

// cleanBlobs removes blobs no record names: the encrypted original of a
// photo whose run crashed before its commit point. Its source is still in the
// inbox and is stored again; the vault keeps only what the log references.
func cleanBlobs(v *vault.Vault, t *table) (removed []string, err error) {
	var orphans []string
	err = v.WalkBlobs(func(hash string, size int64) error {
		var b mac
		if n, err := hex.Decode(b[:], []byte(hash)); err != nil || n != len(b) {
			return nil
		}
		logged, err := t.has(kindBlob, slotKey(b[:16]))
		if err != nil {
			return err
		}
		if !logged {
			orphans = append(orphans, hash)
		}
		return nil
	})
	var stray *vault.StrayFilesError
	if err != nil && !errors.As(err, &stray) {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	for _, h := range orphans {
		if os.Remove(v.BlobPath(h)) == nil {
			removed = append(removed, h)
		}
	}
	return removed, nil
}
