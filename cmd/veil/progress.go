package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
	"golang.org/x/term"
)

// progress draws a one-line status on stderr while a long command runs, only
// when stderr is a terminal (restic does the same): logs and pipes get the
// summary line and nothing else.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	start time.Time
	last  time.Time
	files int
	bytes int64
	drawn bool
}

func newProgress(quiet, jsonOut bool) *progress {
	on := !quiet && !jsonOut && term.IsTerminal(int(os.Stderr.Fd()))
	return &progress{w: os.Stderr, on: on, start: time.Now()}
}

// add counts one finished file and redraws at most ten times a second.
func (p *progress) add(bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files++
	p.bytes += bytes
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[K%d files  %s  %.0f files/s  %s/s", p.files, humanBytes(p.bytes), float64(p.files)/secs, humanBytes(int64(float64(p.bytes)/secs)))
	p.drawn = true
}

// println prints a line of its own, clearing the status line first.
func (p *progress) println(w io.Writer, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
		p.last = time.Time{}
	}
	fmt.Fprintln(w, line)
}

// done clears the status line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// ingestProgress draws files, bytes, rate and ETA on a terminal. The total
// comes from a quick count of the inbox, made only when the bar is shown.
type ingestProgress struct {
	*progress
	total atomic.Int64
}

func newIngestProgress(quiet, jsonOut bool, inboxes []string) *ingestProgress {
	p := &ingestProgress{progress: newProgress(quiet, jsonOut)}
	if p.on {
		go func() {
			var n int64
			for _, in := range inboxes {
				inbox.Walk(in, func(path string, d fs.DirEntry, err error) error {
					if err == nil && d.IsDir() && path != in && inbox.SkipDir(d.Name()) {
						return fs.SkipDir
					}
					if err == nil && !d.IsDir() {
						n++
					}
					return nil
				})
			}
			p.total.Store(n)
		}()
	}
	return p
}

func (p *ingestProgress) add(ev ingest.Event) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files++
	if ev.Kind == ingest.Ingested {
		p.bytes += ev.Bytes
	}
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	secs := time.Since(p.start).Seconds()
	rate := float64(p.files) / secs
	line := fmt.Sprintf("%d", p.files)
	if total := p.total.Load(); total > 0 {
		line += fmt.Sprintf("/%d files", total)
		if left := total - int64(p.files); left > 0 && rate > 0 {
			line += fmt.Sprintf("  ETA %s", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
		}
	} else {
		line += " files"
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s  %s  %.0f files/s  %s/s", line, humanBytes(p.bytes), rate, humanBytes(int64(float64(p.bytes)/secs)))
	p.drawn = true
}
