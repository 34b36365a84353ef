package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/manifest"
)

// hashJob is one file to check. Jobs are built only as they are run, from
// the compact per-record state: holding a path and names for every record at
// once would cost more than all the rest of an audit.
type hashJob struct {
	record int64
	object string
	path   string
	sha    string
	size   int64 // -1: not checked
}

// hashFiles checks files in parallel and adds findings of check c in job
// order. job(k) returns job k of n, or false if there is nothing to check
// for k; it is called in order, from one goroutine.
func (a *auditor) hashFiles(ctx context.Context, c manifest.Check, n int, job func(k int) (hashJob, bool)) error {
	type numbered struct {
		k int
		j hashJob
	}
	// Only the few jobs with findings keep a result, by job number.
	results := make(map[int][]manifest.Finding)
	var wg sync.WaitGroup
	next := make(chan numbered)
	var mu sync.Mutex
	for range a.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range next {
				fs := checkFile(c, x.j)
				if len(fs) > 0 {
					mu.Lock()
					results[x.k] = fs
					mu.Unlock()
				}
			}
		}()
	}
	for k := range n {
		if ctx.Err() != nil {
			break
		}
		if j, ok := job(k); ok {
			next <- numbered{k, j}
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make([]int, 0, len(results))
	for k := range results {
		done = append(done, k)
	}
	sort.Ints(done)
	for _, k := range done {
		for _, f := range results[k] {
			a.rep.Add(f)
		}
	}
	return nil
}

// checkFile compares one file with its logged hash and size. It does not
// follow a symbolic link: a link in the vault or the release folder is not
// the file the log names, even if it points at one.
func checkFile(c manifest.Check, j hashJob) []manifest.Finding {
	var out []manifest.Finding
	bad := func(format string, args ...any) {
		out = append(out, manifest.Finding{Record: j.record, Check: c, Object: j.object, Problem: fmt.Sprintf(format, args...)})
	}
	f, st, err := filekind.OpenRegular(j.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		bad("missing")
		return out
	case errors.Is(err, filekind.ErrNotRegular):
		bad("not a regular file")
		return out
	case err != nil:
		bad("cannot read: %v", filekind.Bare(err))
		return out
	}
	defer f.Close()
	if j.size >= 0 && st.Size() != j.size {
		bad("size %d bytes, logged %d", st.Size(), j.size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return []manifest.Finding{{Record: j.record, Check: c, Object: j.object, Problem: fmt.Sprintf("cannot read: %v", filekind.Bare(err))}}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != j.sha {
		bad("content hash %s, logged %s", short(got), short(j.sha))
	}
	return out
}
