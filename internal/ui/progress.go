package ui

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/ingest/inbox"
)

// Progress draws a one-line status on a terminal while a long command
// runs. The caller turns it on only when its stderr is a terminal (restic
// does the same): logs and pipes get the summary line and nothing else.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	start time.Time
	last  time.Time
	files int
	bytes int64
	drawn bool
}

// NewProgress returns a Progress drawing on w, or one that only counts
// when on is false.
func NewProgress(w io.Writer, on bool) *Progress {
	return &Progress{w: w, on: on, start: time.Now()}
}

// On reports whether the status line is drawn.
func (p *Progress) On() bool { return p.on }

// Add counts one finished file and redraws at most ten times a second.
func (p *Progress) Add(bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files++
	p.bytes += bytes
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	secs := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[K%d files  %s  %.0f files/s  %s/s", p.files, HumanBytes(p.bytes), float64(p.files)/secs, HumanBytes(int64(float64(p.bytes)/secs)))
	p.drawn = true
}

// Println prints a line of its own on w, clearing the status line first.
func (p *Progress) Println(w io.Writer, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
		p.last = time.Time{}
	}
	fmt.Fprintln(w, line)
}

// Done clears the status line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// IngestProgress draws files, bytes, rate and ETA on a terminal. The total
// comes from a quick count of the inbox, made only when the bar is shown.
type IngestProgress struct {
	*Progress
	total atomic.Int64
}

// NewIngestProgress returns the progress of ingest over inboxes, drawn on w
// when on.
func NewIngestProgress(w io.Writer, on bool, inboxes []string) *IngestProgress {
	p := &IngestProgress{Progress: NewProgress(w, on)}
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

// Add counts one event of the run.
func (p *IngestProgress) Add(ev ingest.Event) {
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
	fmt.Fprintf(p.w, "\r\x1b[K%s  %s  %.0f files/s  %s/s", line, HumanBytes(p.bytes), rate, HumanBytes(int64(float64(p.bytes)/secs)))
	p.drawn = true
}
