package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
)

// index checks the release folder's index.csv row by row against the log's
// ingest records: researchers read each photo's subject and phase from it,
// and nothing but the log vouches for them. Every row must be the one ingest
// writes for its record (release.Row.Line), once, in log order.
func (a *auditor) index() error {
	t := a.releaseRefs
	add := func(record int64, object, format string, args ...any) {
		a.rep.Add(manifest.Finding{Record: record, Check: CheckRelease, Object: object, Problem: fmt.Sprintf(format, args...)})
	}
	f, _, err := filekind.OpenRegular(filepath.Join(a.opts.Release, release.IndexFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if t.rows > 0 {
			add(-1, release.IndexFile, "missing, but the log has %d ingest records (deleted? the next ingest would write a new one)", t.rows)
		}
		return nil
	case errors.Is(err, filekind.ErrNotRegular):
		add(-1, release.IndexFile, "not a regular file")
		return nil
	case err != nil:
		return fmt.Errorf("audit: %w", err)
	}
	defer f.Close()

	prev, prevLine := -1, 0 // entry of the row before, and its line
	last := -1              // the highest position in the log of a row found
	err = release.ReadIndex(f, func(line int, row release.Row) error {
		object := fmt.Sprintf("%s line %d", release.IndexFile, line)
		k, ok := t.findPhoto(row.Photo)
		if !ok {
			add(-1, object, "photo %s: no ingest record has this code (row added)", row.Photo)
			return nil
		}
		u := t.refs.at(k)
		if !u.row {
			return nil // a damaged record, already a finding
		}
		if u.listed {
			add(u.record, object, "photo %s: row listed again (row added)", row.Photo)
			return nil
		}
		u.listed = true
		if d := rowDiff(row, t.row(k)); d != "" {
			add(u.record, object, "photo %s: row altered: %s", row.Photo, d)
		}
		if prev >= 0 && u.rowNo < t.refs.at(prev).rowNo {
			p := t.refs.at(prev)
			add(u.record, object, "photo %s: row out of log order: it comes after photo %s (line %d, record %d), which the log has later (rows reordered)",
				row.Photo, p.photo, prevLine, p.record)
		}
		prev, prevLine = k, line
		last = max(last, int(u.rowNo))
		return nil
	})
	var re *release.RowError
	switch {
	case errors.As(err, &re):
		add(-1, fmt.Sprintf("%s line %d", release.IndexFile, re.Line), "%v; the rows after it were not compared", re.Err)
		return nil
	case errors.Is(err, release.ErrHeader):
		add(-1, release.IndexFile, "the first line is not the header %q; no row was compared", strings.TrimSpace(release.Header))
		return nil
	case err != nil:
		return fmt.Errorf("audit: %s: %w", release.IndexFile, err)
	}
	for k := range t.refs.len() {
		u := t.refs.at(k)
		if !u.row || u.listed {
			continue
		}
		why := "row missing (removed?)"
		if int(u.rowNo) > last {
			why = "row missing at the end (an ingest stopped before writing it, or is running: verify again; the next ingest restores a missing tail)"
		}
		add(u.record, release.IndexFile, "photo %s: %s", u.photo, why)
	}
	return nil
}

// rowDiff names the fields in which row differs from the one the log calls
// for, or returns "".
func rowDiff(row, want release.Row) string {
	var d []string
	field := func(name, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s %q, logged %q", name, got, want))
		}
	}
	field("subject", row.Subject.String(), want.Subject.String())
	field("phase", row.Phase, want.Phase)
	field("interval", row.Interval, want.Interval)
	field("format", row.Format, want.Format)
	field("width", fmt.Sprint(row.Width), fmt.Sprint(want.Width))
	field("height", fmt.Sprint(row.Height), fmt.Sprint(want.Height))
	field("sha256", row.SHA256, want.SHA256)
	return strings.Join(d, ", ")
}
