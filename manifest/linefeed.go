package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// item is one line of the records file, hashed and parsed by a worker.
type item struct {
	line []byte
	st   lineStatus
	leaf tlog.Hash
	rec  Record
	err  error
}

// chunk is a run of lines; done is closed when its items are processed.
type chunk struct {
	items []item
	done  chan struct{}
}

// lineFeed reads the records file ahead and hashes and parses lines in
// parallel, delivering chunks in file order: parsing is most of an audit's
// time, and only the tree has to be built in order.
type lineFeed struct {
	order chan *chunk
	mu    sync.Mutex
	e     error
}

func (l *lineFeed) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e
}

const chunkLines = 512

func readLines(ctx context.Context, r io.Reader, workers int) *lineFeed {
	feed := &lineFeed{order: make(chan *chunk, 2*workers)}
	jobs := make(chan *chunk, 2*workers)
	for range workers {
		go func() {
			for c := range jobs {
				for k := range c.items {
					it := &c.items[k]
					if it.st == lineOK {
						it.leaf = tlog.RecordHash(it.line)
						it.rec, it.err = Parse(it.line)
					}
				}
				close(c.done)
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(feed.order)
		lr := newLineReader(r)
		for {
			if err := ctx.Err(); err != nil {
				feed.mu.Lock()
				feed.e = err
				feed.mu.Unlock()
				return
			}
			c := &chunk{items: make([]item, 0, chunkLines), done: make(chan struct{})}
			var buf []byte
			eof := false
			for len(c.items) < chunkLines {
				line, st, err := lr.next()
				if errors.Is(err, io.EOF) {
					eof = true
					break
				}
				if err != nil {
					feed.mu.Lock()
					feed.e = fmt.Errorf("manifest: verify: %w", err)
					feed.mu.Unlock()
					eof = true
					break
				}
				// One copy per chunk: the reader's buffer is reused.
				off := len(buf)
				buf = append(buf, line...)
				c.items = append(c.items, item{line: buf[off:len(buf):len(buf)], st: st})
				if st == lineTorn {
					eof = true
					break
				}
			}
			// buf may have moved while growing: point the items at its final copy.
			off := 0
			for k := range c.items {
				n := len(c.items[k].line)
				c.items[k].line = buf[off : off+n : off+n]
				off += n
			}
			feed.order <- c
			jobs <- c
			if eof {
				return
			}
		}
	}()
	return feed
}
