package stripcopy

import (
	"fmt"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
)

// groupMax is the most copies that wait for one file-system sync.
const groupMax = 64

// commit publishes the workers' copies in groups: a copy waits until one
// file-system sync has made its data durable, and only then gets its final
// name, so a name never points at incomplete data. A group is synced when it
// is full or when no other result is ready, so a slow trickle of files is
// not held back. On a failure of the output folder it calls stop and keeps
// draining, so that the workers finish and no temporary file is left.
func commit(results <-chan copied, opts Options, emit func(Event), stop func()) error {
	var group []copied
	var fatal error
	published := 0
	flush := func() {
		if len(group) == 0 {
			return
		}
		var syncErr error
		if !opts.NoSync {
			syncErr = atomicfile.SyncFS(opts.OutDir)
		}
		for _, c := range group {
			if syncErr != nil {
				c.pending.Discard()
				emit(Event{Path: c.Path, Out: c.Out, Err: fmt.Errorf("cannot flush %s to disk: %w", c.Out, syncErr)})
				continue
			}
			if err := c.pending.Publish(!opts.Replace); err != nil {
				emit(Event{Path: c.Path, Out: c.Out, Err: fmt.Errorf("cannot write %s: %w", c.Out, filekind.Bare(err))})
				continue
			}
			published++
			emit(c.Event)
		}
		group = group[:0]
	}
	for c := range results {
		switch {
		case c.fatal != nil:
			if fatal == nil {
				fatal = c.fatal
				stop()
			}
		case c.pending != nil:
			group = append(group, c)
		default:
			emit(c.Event)
		}
		if len(group) >= groupMax || len(results) == 0 {
			flush()
		}
	}
	flush()
	if !opts.NoSync && published > 0 {
		// The renames themselves must survive a crash too.
		if err := atomicfile.SyncFS(opts.OutDir); err != nil {
			fatal = &DirError{Op: "sync", Dir: opts.OutDir, Err: err}
		}
	}
	return fatal
}
