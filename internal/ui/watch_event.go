package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veil-photo/veil/ingest"
)

// WatchEvent prints an event of veil watch, which watches with the given
// settle and rescan times.
func (p *Printer) WatchEvent(ev ingest.WatchEvent, settle, rescan time.Duration) {
	switch ev.Kind {
	case ingest.WatchWatching:
		p.Info("watching", fmt.Sprintf("watching %s (settle %v, rescan %v)", strings.Join(p.Inboxes, ", "), settle, rescan))
	case ingest.WatchUnwatched:
		p.Problem("warning", fmt.Sprintf("warning: cannot watch %s: %s; photos there are taken at the next --rescan (raise fs.inotify.max_user_watches if there are many folders)",
			p.pathOrInbox(ev.Path), p.errText(ev.Err)))
	case ingest.WatchLost:
		p.Problem("warning", fmt.Sprintf("warning: file system events lost (%s); scanning the whole inbox", p.errText(ev.Err)))
	case ingest.WatchWaiting:
		p.Waiting(ev.Holder.Command, fmt.Sprintf("waiting for the vault lock: %v; photos stay in the inbox until it is released", ev.Err))
	case ingest.WatchResumed:
		p.Info("resumed", "the vault lock is free again; resuming")
	case ingest.WatchStale:
		p.Problem("warning", fmt.Sprintf("warning: the previous writer %v did not finish; cleaning up after it", ev.Holder))
	case ingest.WatchPinned:
		p.Info("pinned", ev.Note)
	case ingest.WatchCleaned:
		p.Problem("warning", fmt.Sprintf("removed %d leftovers of an interrupted run (unlogged blobs or released files, temporary files)", ev.Cleaned))
	case ingest.WatchFile:
		p.File(ev.File)
	case ingest.WatchPassDone:
		s := ev.Summary
		// Already is left out: with --keep-source, every pass meets them again.
		did := s.Ingested+s.Duplicates+s.Quarantined+s.Left+s.LeftBehind() > 0 || (ev.Err != nil && !errors.Is(ev.Err, context.Canceled))
		if did && (p.JSON || !p.Quiet) {
			p.Summary("summary", false, s, nil)
		}
	case ingest.WatchReady:
		p.Info("ready", "the inbox is caught up; watching for new photos")
	}
}

// pathOrInbox is an inbox path as this printer may show it: escaped on a
// terminal, its inbox folder only in a log.
func (p *Printer) pathOrInbox(path string) string {
	if p.Paths && !p.JSON {
		return EscapeName(path)
	}
	return "a folder in " + EscapeName(inboxOf(p.Inboxes, path))
}

// errText is an error as this printer may show it.
func (p *Printer) errText(err error) string {
	return LogSafe(WithInboxes(err, p.Inboxes), p.Paths && !p.JSON)
}
