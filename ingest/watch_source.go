package ingest

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"github.com/veil-photo/veil/ingest/inbox"
)

// Notifier reports changes in the folders it was asked to watch, one folder
// at a time and not below it: the methods of an fsnotify.Watcher. Watch
// keeps it watching every folder of the inboxes that a pass walks; tests
// give Watch a Notifier whose events they send by hand.
type Notifier interface {
	Add(dir string) error
	Remove(dir string) error
	Events() <-chan fsnotify.Event
	// Errors delivers fsnotify.ErrEventOverflow and the like: events were
	// lost, and the whole inbox must be looked at again.
	Errors() <-chan error
	Close() error
}

// NewNotifier returns the Notifier of the operating system (inotify on
// Linux).
func NewNotifier() (Notifier, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return fsNotifier{w}, nil
}

type fsNotifier struct{ w *fsnotify.Watcher }

func (n fsNotifier) Add(dir string) error          { return n.w.Add(dir) }
func (n fsNotifier) Remove(dir string) error       { return n.w.Remove(dir) }
func (n fsNotifier) Events() <-chan fsnotify.Event { return n.w.Events }
func (n fsNotifier) Errors() <-chan error          { return n.w.Errors }
func (n fsNotifier) Close() error                  { return n.w.Close() }

// tree keeps a Notifier watching the folders a pass walks: the inboxes and
// every folder below them that the inbox rules do not skip, including
// folders created or moved in later.
type tree struct {
	n       Notifier
	inboxes []string
	avoid   []os.FileInfo   // the release folder and the vault, if inside an inbox
	dirs    map[string]bool // folders watched
	limit   bool            // a folder could not be watched (reported once)
	emit    func(WatchEvent)
}

func newTree(n Notifier, inboxes []string, avoid []string, emit func(WatchEvent)) *tree {
	t := &tree{n: n, inboxes: inboxes, dirs: map[string]bool{}, emit: emit}
	for _, d := range avoid {
		if fi, err := os.Stat(d); err == nil {
			t.avoid = append(t.avoid, fi)
		}
	}
	return t
}

// add watches dir and every folder below it that a pass would walk.
func (t *tree) add(dir string) {
	inbox.Walk(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if (path != dir || !t.isInbox(path)) && t.skipDir(d) {
			return fs.SkipDir
		}
		if t.dirs[path] {
			return nil
		}
		if err := t.n.Add(path); err != nil {
			if !t.limit {
				t.limit = true
				t.emit(WatchEvent{Kind: WatchUnwatched, Path: path, Err: err})
			}
			return nil
		}
		t.dirs[path] = true
		return nil
	})
}

// addAll watches the inboxes again: folders whose events were lost, or that
// could not be watched before, are picked up.
func (t *tree) addAll() {
	for _, in := range t.inboxes {
		t.add(in)
	}
}

func (t *tree) isInbox(path string) bool {
	for _, in := range t.inboxes {
		if filepath.Clean(in) == filepath.Clean(path) {
			return true
		}
	}
	return false
}

// relevant reports whether an event may bring a file to take, and watches
// folders created or moved into the inbox.
func (t *tree) relevant(ev fsnotify.Event) bool {
	name := filepath.Base(ev.Name)
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if t.dirs[ev.Name] {
			delete(t.dirs, ev.Name)
			t.n.Remove(ev.Name)
		}
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if inbox.SkipDir(name) {
				return false
			}
			t.add(ev.Name)
			return true
		}
	}
	// Removals are the passes' own work; they bring nothing new.
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Chmod) {
		return false
	}
	return !inbox.SkipFile(name)
}

// hasFiles reports whether a pass could find anything to take: a file the
// inbox rules do not skip, in a folder a pass walks. A rescan of an empty
// inbox then costs a listing, not a pass.
func (t *tree) hasFiles() bool {
	found := false
	for _, in := range t.inboxes {
		inbox.Walk(in, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				found = found || path != in // unreadable: let the pass report it
				return nil
			case path == in:
				return nil
			case d.IsDir():
				if t.skipDir(d) {
					return fs.SkipDir
				}
				return nil
			case !inbox.SkipFile(d.Name()):
				found = true
				return fs.SkipAll
			}
			return nil
		})
		if found {
			return true
		}
	}
	return false
}

// skipDir reports whether a pass skips a folder below an inbox: by the inbox
// rules, or because it is the release folder or the vault.
func (t *tree) skipDir(d fs.DirEntry) bool {
	if inbox.SkipDir(d.Name()) {
		return true
	}
	if fi, err := d.Info(); err == nil {
		for _, a := range t.avoid {
			if os.SameFile(fi, a) {
				return true
			}
		}
	}
	return false
}
