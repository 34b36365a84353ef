package audit

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/veil-photo/veil/internal/code"
	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
)

// release checks that the release folder holds exactly the logged files.
func (a *auditor) release(ctx context.Context) error {
	var unlogged []manifest.Finding
	root := a.opts.Release
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if f, odd := oddReleaseEntry(rel, d); odd {
			unlogged = append(unlogged, f)
		}
		if d.IsDir() {
			return nil
		}
		if rel == release.IndexFile {
			return nil
		}
		k, ok := a.releaseRefs.find(rel)
		if !ok {
			unlogged = append(unlogged, manifest.Finding{Record: -1, Check: CheckRelease, Object: "released file " + rel, Problem: "not in the log (added without a record)"})
			return nil
		}
		u := a.releaseRefs.refs.at(k)
		if !d.Type().IsRegular() {
			u.state = releaseOdd
			unlogged = append(unlogged, manifest.Finding{Record: u.record, Check: CheckRelease, Object: "released file " + rel, Problem: "not a regular file"})
			return nil
		}
		u.state = releaseRegular
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: release: %w", err)
	}
	// releaseRefs is in record order, the order findings are reported in.
	var missing []manifest.Finding
	t := a.releaseRefs
	for k := range t.refs.len() {
		if u := t.refs.at(k); u.state == releaseUnseen {
			missing = append(missing, manifest.Finding{Record: u.record, Check: CheckRelease, Object: "released file " + t.path(k), Problem: "missing"})
		}
	}
	err = a.hashFiles(ctx, CheckRelease, t.refs.len(), func(k int) (hashJob, bool) {
		u := t.refs.at(k)
		if u.state != releaseRegular {
			return hashJob{}, false
		}
		rel := t.path(k)
		// The path WalkDir gave: it joins the root and the names the same way.
		path := filepath.Join(root, filepath.FromSlash(rel))
		return hashJob{record: u.record, object: "released file " + rel, path: path, sha: t.sha(k), size: -1}, true
	})
	if err != nil {
		return err
	}
	for _, f := range missing {
		a.rep.Add(f)
	}
	sort.Slice(unlogged, func(a, b int) bool { return unlogged[a].Object < unlogged[b].Object })
	for _, f := range unlogged {
		a.rep.Add(f)
	}
	return nil
}

// oddReleaseEntry reports a folder veil never makes in a release folder:
// one that is not a subject's. Its name can carry a patient's name even
// when it is empty (red team, PoC 6).
func oddReleaseEntry(rel string, d fs.DirEntry) (manifest.Finding, bool) {
	if _, err := code.Parse(rel); d.IsDir() && err != nil {
		return manifest.Finding{Record: -1, Check: CheckRelease, Object: "folder " + strconv.Quote(rel), Problem: "not a subject's folder (veil makes no other)"}, true
	}
	return manifest.Finding{}, false
}
