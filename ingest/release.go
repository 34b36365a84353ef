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
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/vault"
)

// CSVFile is the release folder's index (SPEC: Release folder). Ingest
// appends a row per committed photo after each batch is committed, in log
// order, and at the start of every run compares the whole file with what the
// log says it must be, rewriting it atomically if a crash left it behind.
const CSVFile = manifest.IndexFile

// csvHeader is the first line of CSVFile.
const csvHeader = "photo,subject,phase,format,width,height,sha256\n"

// csvRow is the line of CSVFile for an ingest record. Every field is a code,
// a vocabulary word, a number or a hash, so none needs quoting.
func csvRow(r *manifest.Ingest) string {
	return r.Photo + "," + r.Subject + "," + r.Phase + "," + r.Format + "," +
		strconv.Itoa(r.Released.Width) + "," + strconv.Itoa(r.Released.Height) + "," + r.Released.SHA256 + "\n"
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

// committed is what the log holds, as ingest needs it.
type committed struct {
	photos  map[uuid.UUID]struct{} // nil once New has used it
	blobs   map[mac]struct{}       // nil once the start-up cleaning is done
	dups    map[mac]struct{}       // sha256 of every duplicate record's line
	ingests int64
	csvSum  [32]byte // sha256 of the CSVFile the log calls for
}

// scanLog reads the committed records of the log in dir.
func scanLog(dir string) (*committed, error) {
	c := &committed{photos: map[uuid.UUID]struct{}{}, blobs: map[mac]struct{}{}, dups: map[mac]struct{}{}}
	h := sha256.New()
	io.WriteString(h, csvHeader)
	err := manifest.Scan(dir, func(i int64, line []byte) error {
		if strings.Contains(string(line[:min(len(line), 40)]), `"type":"duplicate"`) {
			c.dups[sha256.Sum256(line)] = struct{}{}
			return nil
		}
		if !strings.Contains(string(line[:min(len(line), 40)]), `"type":"ingest"`) {
			return nil
		}
		var r lightIngest
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("ingest: log record %d: %w", i, err)
		}
		u, err := uuid.Parse(r.Photo)
		if err != nil {
			return fmt.Errorf("ingest: log record %d: photo: %w", i, err)
		}
		var b mac
		if _, err := hex.Decode(b[:], []byte(r.Blob.SHA256)); err != nil {
			return fmt.Errorf("ingest: log record %d: blob: %w", i, err)
		}
		c.photos[u] = struct{}{}
		c.blobs[b] = struct{}{}
		c.ingests++
		io.WriteString(h, csvRow(&manifest.Ingest{Photo: r.Photo, Subject: r.Subject, Phase: r.Phase, Format: r.Format, Released: r.Released}))
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	h.Sum(c.csvSum[:0])
	return c, nil
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
		if !strings.Contains(string(line[:min(len(line), 40)]), `"type":"ingest"`) {
			return nil
		}
		var r lightIngest
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("log record %d: %w", i, err)
		}
		_, err := bw.WriteString(csvRow(&manifest.Ingest{Photo: r.Photo, Subject: r.Subject, Phase: r.Phase, Format: r.Format, Released: r.Released}))
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
// folder are left alone (veil verify reports them).
func cleanRelease(release string, photos map[uuid.UUID]struct{}) (removed []string, err error) {
	top, err := os.ReadDir(release)
	if err != nil {
		return nil, fmt.Errorf("ingest: release folder: %w", err)
	}
	for _, e := range top {
		name := e.Name()
		if atomicfile.IsTemp(name) && e.Type().IsRegular() {
			if os.Remove(filepath.Join(release, name)) == nil {
				removed = append(removed, name)
			}
			continue
		}
		if !e.IsDir() || !isCode(name) {
			continue
		}
		sub := filepath.Join(release, name)
		entries, err := os.ReadDir(sub)
		if err != nil {
			return removed, fmt.Errorf("ingest: release folder: %w", err)
		}
		for _, f := range entries {
			fn := f.Name()
			if !f.Type().IsRegular() {
				continue
			}
			stem, _, _ := strings.Cut(fn, ".")
			u, perr := uuid.Parse(stem)
			_, logged := photos[u]
			if atomicfile.IsTemp(fn) || perr == nil && isCode(stem) && !logged {
				if os.Remove(filepath.Join(sub, fn)) == nil {
					removed = append(removed, name+"/"+fn)
				}
			}
		}
	}
	if len(removed) > 0 {
		if err := atomicfile.SyncFS(release); err != nil {
			return removed, fmt.Errorf("ingest: release folder: %w", err)
		}
	}
	return removed, nil
}

func isCode(s string) bool { return manifest.IsUUID(s) }

// cleanBlobs removes blobs no record names: the encrypted original of a
// photo whose run crashed before its commit point. Its source is still in the
// inbox and is stored again; the vault keeps only what the log references.
func cleanBlobs(v *vault.Vault, blobs map[mac]struct{}) (removed []string, err error) {
	var orphans []string
	err = v.WalkBlobs(func(hash string, size int64) error {
		var b mac
		if _, err := hex.Decode(b[:], []byte(hash)); err != nil {
			return nil
		}
		if _, ok := blobs[b]; !ok {
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
