// Package stripcopy writes stripped copies of the photos in the files and
// folders a user names into an output folder, with no vault and no codes:
// the engine of veil strip. It walks the inputs by the inbox rules, strips
// with several workers, and makes the copies durable in groups (one
// file-system sync per group, before the group gets its final names), so a
// copy that has its final name is complete even after a power cut.
package stripcopy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/internal/filekind"
	"github.com/veil-photo/veil/photo"
)

// Options say where and how Run writes the copies.
type Options struct {
	OutDir  string // created if missing
	Workers int    // files stripped in parallel, at least 1
	Replace bool   // replace existing files in OutDir instead of refusing the input
	NoSync  bool   // skip the file-system syncs (faster; a power cut may leave incomplete copies)
}

// Event is what became of one input: stripped, with Result set, or refused,
// with Err saying why (photo.Explain puts it in words).
type Event struct {
	Path   string        // the input, as Input.Path
	Out    string        // its copy in OutDir; empty when the input was refused before a name was chosen
	Result *photo.Result // set when the copy has its final name
	Err    error         // set when the input was refused
}

// ErrSameFile refuses an input whose copy would replace the input itself
// (the output folder is the input's folder).
var ErrSameFile = errors.New("output would overwrite the input")

// DirError is a failure of the output folder itself; it ends the run, since
// every further copy would fail the same way. Op is "mkdir" (the folder
// cannot be created), "write" (its file system is full or read-only:
// atomicfile.IsFull) or "sync" (the copies' names could not be made durable).
type DirError struct {
	Op  string
	Dir string
	Err error
}

func (e *DirError) Error() string { return fmt.Sprintf("stripcopy: %s %s: %v", e.Op, e.Dir, e.Err) }

// Unwrap returns the file system's error.
func (e *DirError) Unwrap() error { return e.Err }

// Run writes a stripped copy of every file under paths into opts.OutDir,
// under its Input.Rel name, and calls emit once for each input, from one
// goroutine, as its copy is published or it is refused. It returns nil when
// every input was handled (refusals included), a *DirError when the output
// folder failed, or ctx's error when ctx was cancelled; the copies already
// published are complete in every case.
func Run(ctx context.Context, opts Options, paths []string, emit func(Event)) error {
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return &DirError{Op: "mkdir", Dir: opts.OutDir, Err: filekind.Bare(err)}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	files := make(chan Input, 64)
	// Walk's only error is ctx's (the fn below returns nothing else), and
	// Run reports that itself.
	go func() {
		defer close(files)
		Walk(ctx, paths, opts.OutDir, func(in Input) error {
			select {
			case files <- in:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	results := make(chan copied, 64)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for in := range files {
				if ctx.Err() != nil {
					continue // stopping: drain the walk without doing work
				}
				results <- stripOne(in, opts)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	err := commit(results, opts, emit, cancel)
	if ctx.Err() != nil && err == nil {
		err = ctx.Err()
	}
	return err
}

// copied is a worker's result: a copy written but not yet published, a
// refusal, or a failure of the output folder that stops the run.
type copied struct {
	Event
	pending *atomicfile.Pending
	fatal   error
}

// stripOne strips one file into OutDir under its relative name.
func stripOne(in Input, opts Options) copied {
	refuse := func(err error) copied {
		c := copied{Event: Event{Path: in.Path, Err: err}}
		if atomicfile.IsFull(err) {
			c.fatal = &DirError{Op: "write", Dir: opts.OutDir, Err: err}
		}
		return c
	}
	if in.Err != nil {
		return refuse(in.Err)
	}
	src, sfi, err := filekind.OpenRegular(in.Path)
	if err != nil {
		return refuse(filekind.Bare(err))
	}
	defer src.Close()
	target := filepath.Join(opts.OutDir, in.Rel)
	if fi, err := os.Stat(target); err == nil {
		if os.SameFile(fi, sfi) {
			return refuse(ErrSameFile)
		}
		if !opts.Replace {
			c := refuse(fmt.Errorf("%s: %w", target, fs.ErrExist))
			c.Out = target
			return c
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return refuse(filekind.Bare(err))
	}
	out, err := atomicfile.Create(target, 0o644)
	if err != nil {
		return refuse(fmt.Errorf("cannot write to %s: %w", filepath.Dir(target), filekind.Bare(err)))
	}
	defer out.Abort()
	res, err := photo.Strip(out, src, sfi.Size())
	if err != nil {
		return refuse(err)
	}
	pending, err := out.Close()
	if err != nil {
		return refuse(fmt.Errorf("cannot write %s: %w", target, filekind.Bare(err)))
	}
	return copied{Event: Event{Path: in.Path, Out: target, Result: res}, pending: pending}
}
