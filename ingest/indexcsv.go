package ingest

import (
	"bufio"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
	"github.com/veil-photo/veil/vault"
)

// csvStateFile, under VAULT/index/, holds the running SHA-256 of what
// index.csv must hold for a prefix of the log, so that a run's start checks
// the file against the log without decoding the whole log: only the records
// appended since are decoded.
//
//	veil-index-csv-state1 <records> <bytes> <hex sha256 state>
const csvStateFile = "index-csv.state"

const csvStateMagic = "veil-index-csv-state1"

// indexCSV is the release folder's index.csv (release.IndexFile): a row
// per committed photo, appended after each batch in log order, and at the
// start of every pass compared whole with what the log says it must be,
// rewritten atomically if a crash left it behind.
type indexCSV struct {
	path  string // index.csv
	state string // csvStateFile
	h     hash.Hash
	count int64 // records of the log h covers
	size  int64 // bytes of the log h covers
	f     *os.File
	// tampered says how the index.csv found at the start differed from the
	// log in a way no crash explains, and where it was kept; "" if not.
	tampered string
}

// openIndexCSV brings the running hash up to date with the log of v and
// rewrites index.csv in releaseDir if it is not what the hash says. The
// saved state is trusted only for the prefix of the log the lookup index
// was shown to cover when it was opened clean: both are saved by the same
// clean close.
func openIndexCSV(releaseDir string, v *vault.Vault, ix *lookup.Index) (*indexCSV, error) {
	c := &indexCSV{path: filepath.Join(releaseDir, release.IndexFile), state: filepath.Join(v.IndexDir(), csvStateFile), h: sha256.New()}
	count, size := ix.LogCovered()
	if !ix.WasClean() || !c.load(count, size) {
		return c, c.rewrite(v.LogDir())
	}
	err := manifest.ScanFrom(v.LogDir(), c.size, c.count, func(i int64, line []byte) error {
		return c.follow(i, line)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	if !c.current() {
		return c, c.rewrite(v.LogDir())
	}
	return c, nil
}

// follow feeds record i of the log to the hash.
func (c *indexCSV) follow(i int64, line []byte) error {
	row, err := rowOf(i, line)
	if err != nil {
		return err
	}
	io.WriteString(c.h, row)
	c.count, c.size = i+1, c.size+int64(len(line))+1
	return nil
}

// rowOf returns the line of index.csv for log record i, "" for a record
// that is not an ingest record.
func rowOf(i int64, line []byte) (string, error) {
	r, err := manifest.Parse(line)
	if err != nil {
		return "", fmt.Errorf("log record %d: %w", i, err)
	}
	in, ok := r.(*manifest.Ingest)
	if !ok {
		return "", nil
	}
	row, err := csvRow(in)
	if err != nil {
		return "", fmt.Errorf("log record %d: %w", i, err)
	}
	return row.Line(), nil
}

// csvRow is the row of index.csv for an ingest record.
func csvRow(r *manifest.Ingest) (release.Row, error) {
	p, err := code.Parse(r.Photo)
	if err != nil {
		return release.Row{}, fmt.Errorf("photo: %w", err)
	}
	s, err := code.Parse(r.Subject)
	if err != nil {
		return release.Row{}, fmt.Errorf("subject: %w", err)
	}
	return release.Row{Photo: p, Subject: s, Phase: r.Phase, Interval: r.Interval, Format: r.Format,
		Width: r.Released.Width, Height: r.Released.Height, SHA256: r.Released.SHA256}, nil
}

// load restores the hash from csvStateFile if it was saved for the log's
// first count records (size bytes).
func (c *indexCSV) load(count, size int64) bool {
	b, err := os.ReadFile(c.state)
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 4 || f[0] != csvStateMagic || f[1] != strconv.FormatInt(count, 10) || f[2] != strconv.FormatInt(size, 10) {
		return false
	}
	st, err := hex.DecodeString(f[3])
	if err != nil || c.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st) != nil {
		c.h.Reset()
		return false
	}
	c.count, c.size = count, size
	return true
}

// current reports whether index.csv holds exactly what the hash covers.
func (c *indexCSV) current() bool {
	f, err := os.Open(c.path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return string(h.Sum(nil)) == string(c.h.Sum(nil))
}

// rewrite writes index.csv anew from the whole log, atomically, and the
// hash with it. What was there is compared as it is replaced: a crash
// explains only a missing tail of rows (ingest appends them after the
// log), so an index.csv that is not a prefix of the new one, or that is
// missing while the log has photos, was changed by someone: the old file is
// kept beside the new one as evidence and c.tampered says so.
func (c *indexCSV) rewrite(logDir string) error {
	f, err := atomicfile.Create(c.path, releaseFileMode)
	if err != nil {
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	defer f.Abort()
	c.h.Reset()
	c.count, c.size = 0, 0
	var cmp prefixCheck
	old, err := os.Open(c.path)
	switch {
	case err == nil:
		defer old.Close()
		cmp.old = bufio.NewReader(old)
	case errors.Is(err, fs.ErrNotExist):
		cmp.missing = true
	default:
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	rows := 0
	bw := bufio.NewWriterSize(io.MultiWriter(f, c.h, &cmp), 256<<10)
	bw.WriteString(release.Header)
	err = manifest.Scan(logDir, func(i int64, line []byte) error {
		row, err := rowOf(i, line)
		if err != nil {
			return err
		}
		if row != "" {
			if _, err := bw.WriteString(row); err != nil {
				return err
			}
			rows++
		}
		c.count, c.size = i+1, c.size+int64(len(line))+1
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	switch {
	case cmp.missing && rows > 0 && hasSubjectFolders(filepath.Dir(c.path)):
		c.tampered = fmt.Sprintf("%s was missing, though the log has %d photos (no crash removes it): written anew from the log; find out who removed it, and run veil verify", release.IndexFile, rows)
	case !cmp.missing && !cmp.isPrefix():
		evidence := fmt.Sprintf("%s.replaced-%s", c.path, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Link(c.path, evidence); err != nil {
			return fmt.Errorf("ingest: %s differs from the log in a way no crash explains, and could not be kept as evidence (%w); nothing was changed", release.IndexFile, err)
		}
		c.tampered = fmt.Sprintf("%s differed from the log in a way no crash explains (rows changed, removed, added or reordered): kept as %s for investigation, and written anew from the log; run veil verify", release.IndexFile, filepath.Base(evidence))
	}
	if err := f.Commit(false); err != nil {
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	return nil
}

// hasSubjectFolders reports whether the release folder holds any folder: a
// release that has photos. An empty one is a new release folder (a first
// run, or a release made anew for this vault), where no index.csv is due.
func hasSubjectFolders(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() {
			return true
		}
	}
	return false
}

// prefixCheck compares what is written with an old file, to tell whether
// the old file is a prefix of it.
type prefixCheck struct {
	old      *bufio.Reader // nil once the old file has ended
	missing  bool          // there was no old file
	diverged bool
}

func (p *prefixCheck) Write(b []byte) (int, error) {
	for _, x := range b {
		if p.old == nil || p.diverged {
			break
		}
		c, err := p.old.ReadByte()
		if err != nil {
			p.old = nil // the old file ended here: a prefix so far
			break
		}
		p.diverged = c != x
	}
	return len(b), nil
}

// isPrefix reports whether the old file was a prefix of all that was
// written: it did not diverge and has nothing after it.
func (p *prefixCheck) isPrefix() bool {
	if p.diverged {
		return false
	}
	if p.old != nil {
		if _, err := p.old.ReadByte(); err == nil {
			return false // longer: rows added
		}
	}
	return true
}

// openAppend opens index.csv for the rows of the pass.
func (c *indexCSV) openAppend() error {
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("ingest: %s: %w", release.IndexFile, err)
	}
	c.f = f
	return nil
}

// add appends the rows of a committed batch, which left the log at count
// records and size bytes. A failed write is repaired by the next start.
func (c *indexCSV) add(batch []result, count, size int64) {
	var rows strings.Builder
	for _, r := range batch {
		if in, ok := r.rec.(*manifest.Ingest); ok {
			row, err := csvRow(in)
			if err != nil {
				c.count = -1 // the hash is no longer the log's: never saved
				return
			}
			rows.WriteString(row.Line())
		}
	}
	io.WriteString(c.h, rows.String())
	c.count, c.size = count, size
	if c.f != nil && rows.Len() > 0 {
		c.f.WriteString(rows.String())
	}
}

// close closes index.csv and saves the hash if it covers the log's first
// count records (size bytes), which is all of it. Saving is best effort:
// without the state, the next start rewrites index.csv from the log.
func (c *indexCSV) close(count, size int64) {
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	st, err := c.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil || c.count != count || c.size != size || count < 0 {
		os.Remove(c.state)
		return
	}
	f, err := atomicfile.Create(c.state, 0o600)
	if err != nil {
		return
	}
	defer f.Abort()
	fmt.Fprintf(f, "%s %d %d %x\n", csvStateMagic, count, size, st)
	// Not fsynced: a state lost or garbled by a crash fails to load, or
	// fails to match index.csv, and costs one rewrite.
	if pending, err := f.Close(); err == nil {
		pending.Publish(false)
	}
}
