// Package gallery builds a static before/after website from a release
// folder: an index of subjects and a page per subject, with thumbnails and
// previews re-encoded from the released pixels. It reads only the release
// folder and its index.csv (codes, phase, interval, format, size): never
// the vault, never a key, so whoever may see the release may build and
// browse its gallery, and the site holds nothing the release does not.
//
// The site is self-contained (no external asset, no inline script, a strict
// Content-Security-Policy in every page) and works from file:// as from
// any static web server. Builds are incremental: ManifestFile records the
// content hash of every rendered file, so a second run renders only new
// photos and removes the images and pages of photos no longer released.
package gallery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/release"
)

// Options says what to build.
type Options struct {
	Release  string      // the release folder (holds index.csv)
	Site     string      // the output folder; created if missing
	Subjects []code.Code // only these subjects; all when empty
	Phases   []string    // only photos of these phases; all when empty
	Workers  int         // photos decoded at once (one decoded photo each); 1 when < 1
	// HEIFConvert is the path of libheif's heif-convert, used to decode
	// HEIC and AVIF photos; empty shows them as a placeholder that names
	// the format and links to the released file.
	HEIFConvert string
}

// Action is what a build did with one photo.
type Action string

// The actions an Event reports.
const (
	Rendered    Action = "rendered"    // new images made
	Placeholder Action = "placeholder" // no decoder for its format: shown as a placeholder
	Failed      Action = "failed"      // could not be rendered (see Event.Err): shown as a placeholder
	Removed     Action = "removed"     // no longer in the release (or the selection): its images removed
)

// Event reports one photo's outcome to the progress function.
type Event struct {
	Action  Action
	Photo   code.Code
	Subject code.Code // zero for Removed
	Format  string    // empty for Removed
	Err     error     // for Failed
}

// Stats sums up a build.
type Stats struct {
	Subjects     int `json:"subjects"`     // subject pages in the site
	Photos       int `json:"photos"`       // photos in the site
	Rendered     int `json:"rendered"`     // photos rendered by this build
	Kept         int `json:"kept"`         // photos whose images were already up to date
	Placeholders int `json:"placeholders"` // photos shown as a placeholder for lack of a decoder
	Failed       int `json:"failed"`       // photos that could not be rendered
	Removed      int `json:"removed"`      // photos whose images were removed
}

// ErrSiteInRelease is returned when the site and the release folder
// overlap: the site would end up in the release (and be shipped with it),
// or the gallery's clean-up would reach into the release.
var ErrSiteInRelease = errors.New("the site folder and the release folder must not contain each other")

// Build makes or updates the site. progress, when not nil, is called once
// per photo rendered, failed or removed, from one goroutine at a time.
// Photos already rendered cost one map look-up and two stats, and pages are
// rewritten only when their content changes, so calling Build after every
// ingest batch is cheap.
func Build(ctx context.Context, opts Options, progress func(Event)) (Stats, error) {
	var st Stats
	if progress == nil {
		progress = func(Event) {}
	}
	rel, site, err := checkFolders(opts.Release, opts.Site)
	if err != nil {
		return st, err
	}
	rows, err := readRows(rel, opts)
	if err != nil {
		return st, err
	}
	if err := os.MkdirAll(site, 0o755); err != nil {
		return st, fmt.Errorf("gallery: %w", err)
	}
	man, err := loadManifest(site)
	if err != nil {
		return st, fmt.Errorf("gallery: %s: %w", site, err)
	}
	// Claim a new folder at once: a first build killed half-way leaves a
	// site the next build recognises as its own.
	if err := man.save(site); err != nil {
		return st, fmt.Errorf("gallery: %w", err)
	}
	for _, d := range []string{imgDir, pageDir, assetDir} {
		if err := os.MkdirAll(filepath.Join(site, d), 0o755); err != nil {
			return st, fmt.Errorf("gallery: %w", err)
		}
	}

	shown, err := renderAll(ctx, rel, site, rows, man, opts, progress, &st)
	if err != nil {
		// Save what was rendered, so that the next run does not do it again.
		man.save(site)
		return st, err
	}
	st.Removed = removeStale(site, rows, man, progress)
	subjects := groupSubjects(rows, shown, relPath(site, rel))
	st.Subjects, st.Photos = len(subjects), len(rows)
	if err := writePages(site, subjects, man); err != nil {
		return st, fmt.Errorf("gallery: %w", err)
	}
	if err := removeStalePages(site, subjects, man); err != nil {
		return st, fmt.Errorf("gallery: %w", err)
	}
	if err := man.save(site); err != nil {
		return st, fmt.Errorf("gallery: %w", err)
	}
	return st, nil
}

// checkFolders returns both folders as absolute, cleaned paths, refusing
// an overlap.
func checkFolders(releaseDir, siteDir string) (string, string, error) {
	rel, err := filepath.Abs(releaseDir)
	if err != nil {
		return "", "", fmt.Errorf("gallery: %w", err)
	}
	site, err := filepath.Abs(siteDir)
	if err != nil {
		return "", "", fmt.Errorf("gallery: %w", err)
	}
	if within(rel, site) || within(site, rel) {
		return "", "", fmt.Errorf("gallery: %s and %s: %w", releaseDir, siteDir, ErrSiteInRelease)
	}
	return rel, site, nil
}

func within(dir, path string) bool {
	r, err := filepath.Rel(dir, path)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// relPath is the release folder as seen from the site, with forward
// slashes, for the links to the released files: relative, so the site and
// the release can move together (or be served side by side).
func relPath(site, rel string) string {
	r, err := filepath.Rel(site, rel)
	if err != nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(r)
}

// readRows reads index.csv and keeps the selected rows.
func readRows(rel string, opts Options) ([]release.Row, error) {
	f, _, err := filekind.OpenRegular(filepath.Join(rel, release.IndexFile))
	if err != nil {
		return nil, fmt.Errorf("gallery: %s: %w", filepath.Join(rel, release.IndexFile), filekind.Bare(err))
	}
	defer f.Close()
	var rows []release.Row
	err = release.ReadIndex(f, func(_ int, row release.Row) error {
		if len(opts.Subjects) > 0 && !slices.Contains(opts.Subjects, row.Subject) {
			return nil
		}
		if len(opts.Phases) > 0 && !slices.Contains(opts.Phases, row.Phase) {
			return nil
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gallery: %s: %w", rel, err)
	}
	return rows, nil
}

// Folders of the site.
const (
	imgDir   = "img"
	pageDir  = "s"
	assetDir = "assets"
)

// outputs are the derived images of a photo: the preview, then the thumbnail.
func outputs(p code.Code) []string {
	return []string{imgDir + "/" + p.String() + ".jpg", imgDir + "/" + p.String() + ".t.jpg"}
}

// renderAll renders the rows the manifest does not hold yet, on Workers
// goroutines, and returns which photos have images (by photo code). The
// manifest is updated as photos finish.
func renderAll(ctx context.Context, rel, site string, rows []release.Row, man *manifest, opts Options, progress func(Event), st *Stats) (map[code.Code]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	shown := map[code.Code]string{} // photo → why it has no image; absent when it has one
	var todo []release.Row
	for _, row := range rows {
		if e, ok := man.Photos[row.SHA256]; ok && e.Photo == row.Photo && present(site, e.Outputs) {
			st.Kept++
			continue
		}
		todo = append(todo, row)
	}
	type result struct {
		row release.Row
		err error
	}
	jobs := make(chan release.Row)
	results := make(chan result)
	var wg sync.WaitGroup
	for range max(1, opts.Workers) {
		wg.Go(func() {
			for row := range jobs {
				results <- result{row, renderOne(ctx, rel, site, row, opts.HEIFConvert)}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, row := range todo {
			select {
			case jobs <- row:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var fatal error
	for r := range results {
		ev := Event{Photo: r.row.Photo, Subject: r.row.Subject, Format: r.row.Format, Err: r.err}
		switch {
		case r.err == nil:
			man.Photos[r.row.SHA256] = renderedEntry{Photo: r.row.Photo, Outputs: outputs(r.row.Photo)}
			ev.Action = Rendered
			st.Rendered++
		case errors.Is(r.err, ErrNoDecoder):
			shown[r.row.Photo] = strings.ToUpper(r.row.Format) + ": this build has no decoder for it"
			ev.Action, ev.Err = Placeholder, nil
			st.Placeholders++
		case errors.Is(r.err, ctx.Err()), isWriteError(r.err):
			if fatal == nil {
				fatal = r.err
				cancel() // the other workers stop at their next photo
			}
			continue
		default:
			shown[r.row.Photo] = "could not be rendered"
			ev.Action = Failed
			st.Failed++
		}
		progress(ev)
	}
	if fatal == nil {
		fatal = ctx.Err()
	}
	return shown, fatal
}

// writeError marks a failure to write the site (disk full, permissions):
// it stops the build, unlike a photo that cannot be decoded.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

func isWriteError(err error) bool {
	var we writeError
	return errors.As(err, &we)
}

// renderOne renders one photo and writes its images.
func renderOne(ctx context.Context, rel, site string, row release.Row, heifConvert string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r, err := render(ctx, rel, row, heifConvert)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", row.Path(), err)
	}
	out := outputs(row.Photo)
	if err := writeFile(filepath.Join(site, out[0]), r.preview); err != nil {
		return writeError{fmt.Errorf("gallery: %w", err)}
	}
	if err := writeFile(filepath.Join(site, out[1]), r.thumb); err != nil {
		return writeError{fmt.Errorf("gallery: %w", err)}
	}
	return nil
}

func present(site string, files []string) bool {
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			return false
		}
	}
	return true
}

// removeStale forgets and deletes the images of photos that are no longer
// among rows, and any other file in the image folder that the manifest does
// not name (left by a crash or by an older version).
func removeStale(site string, rows []release.Row, man *manifest, progress func(Event)) int {
	keep := map[string]bool{}
	for _, row := range rows {
		keep[row.SHA256] = true
	}
	removed := 0
	for h, e := range man.Photos {
		if keep[h] {
			continue
		}
		for _, f := range e.Outputs {
			os.Remove(filepath.Join(site, f))
		}
		delete(man.Photos, h)
		removed++
		progress(Event{Action: Removed, Photo: e.Photo})
	}
	named := map[string]bool{}
	for _, e := range man.Photos {
		for _, f := range e.Outputs {
			named[f] = true
		}
	}
	entries, _ := os.ReadDir(filepath.Join(site, imgDir))
	for _, d := range entries {
		if !named[imgDir+"/"+d.Name()] && !strings.HasPrefix(d.Name(), tempPrefix) {
			os.Remove(filepath.Join(site, imgDir, d.Name()))
		}
	}
	return removed
}
