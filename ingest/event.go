package ingest

import "time"

// EventKind names what happened to one inbox file.
type EventKind string

// The events of a run.
const (
	// Ingested: stored in the vault, released, logged; the source removed
	// (unless KeepSource).
	Ingested EventKind = "ingested"
	// Duplicate: the same bytes were already ingested under another name; a
	// duplicate record was logged and the source removed.
	Duplicate EventKind = "duplicate"
	// Already: this very file (same bytes, same path) was committed by an
	// earlier run that stopped before removing it, or is kept by
	// KeepSource; nothing is logged again.
	Already EventKind = "already"
	// Quarantined: moved to INBOX/.quarantine with a reason file and logged.
	Quarantined EventKind = "quarantined"
	// Skipped: hidden or temporary names, never touched.
	Skipped EventKind = "skipped"
	// Excluded: a file or folder that Options.Exclude names, never
	// touched; it stays in the inbox.
	Excluded EventKind = "excluded"
	// Left: not taken this time (still being written, changed while being
	// read, or its run stopped); it stays in the inbox for the next run.
	Left EventKind = "left"
	// Unremoved: committed (Ingested, Duplicate or Already, reported
	// before), but the source could not be removed and is still in the
	// inbox with all its metadata: someone must remove it by hand.
	Unremoved EventKind = "unremoved"
	// Stuck: neither taken nor quarantined, because veil cannot read it
	// (a file or a whole folder) or cannot move it into quarantine. Unlike
	// Left, the next run meets the same wall: someone must fix the
	// permission, or move the file away by hand.
	Stuck EventKind = "stuck"
	// IndexTampered: the release folder's index.csv differed from the log
	// in a way no crash explains (or was missing); it was kept as evidence
	// and written anew. Not a file of the inbox: Message says what and
	// where. A run that reports it did its job but must not look clean.
	IndexTampered EventKind = "index-tampered"
)

// Event reports one file. Events of committed files carry codes and never a
// path: a line that joined a patient's folder name to a subject code would
// undo the coding in any log it reaches. Quarantined, skipped and left files
// carry their path (the operator must find them) and no code, and so do
// unremoved sources and stuck files.
type Event struct {
	Kind    EventKind
	DryRun  bool   // what would happen; nothing was changed
	Path    string // inbox path, for Quarantined, Skipped, Excluded, Left, Unremoved and Stuck only
	Photo   string // photo code (Ingested), or the photo these bytes duplicate (Duplicate, Already)
	Subject string // subject code (Ingested)
	Phase   string // Ingested
	Format  string // Ingested
	Width   int
	Height  int
	Bytes   int64  // size of the original
	Reason  string // Quarantined: category, as in the quarantine record
	// Ticket names a quarantined file without its path (which holds a
	// patient's name): it is written into the file's reason file, so a log
	// line can point staff to it while the log itself carries no name.
	Ticket  string
	Message string // Quarantined, Left, Unremoved, Stuck: what exactly, and what to do
}

// Summary totals a run.
type Summary struct {
	Ingested    int
	Duplicates  int
	Already     int
	Quarantined int
	Skipped     int
	Excluded    int // files and folders that Options.Exclude names
	Left        int
	Unremoved   int   // committed sources still in the inbox
	Stuck       int   // files and folders veil could not read or quarantine
	Tampered    int   // IndexTampered: index.csv changed by someone
	Bytes       int64 // bytes of originals ingested
	Duration    time.Duration
	// Cleaned lists what a crashed earlier run left behind and this run
	// removed (temporary files, unreferenced blobs and released files).
	Cleaned int
}

func (s *Summary) add(ev Event) {
	switch ev.Kind {
	case Ingested:
		s.Ingested++
		s.Bytes += ev.Bytes
	case Duplicate:
		s.Duplicates++
	case Already:
		s.Already++
	case Quarantined:
		s.Quarantined++
	case Skipped:
		s.Skipped++
	case Excluded:
		s.Excluded++
	case Left:
		s.Left++
	case Unremoved:
		s.Unremoved++
	case Stuck:
		s.Stuck++
	case IndexTampered:
		s.Tampered++
	}
}

// LeftBehind counts the files still in the inbox that veil should have
// taken, removed or quarantined and could not: unlike Left, they will not
// go away by themselves, and a run that has any did not do its job.
func (s Summary) LeftBehind() int { return s.Unremoved + s.Stuck }

// Step names a point of the commit order, for Options.Hook.
type Step string

// The steps, in commit order. Hook runs just before each.
const (
	StepHash       Step = "hash"       // a settled file is about to be read and hashed
	StepPut        Step = "put"        // hashed and found new: about to be encrypted into the vault
	StepRelease    Step = "release"    // the blob is durable: about to strip into the release folder
	StepPublish    Step = "publish"    // a batch's released files are durable: about to give them their names
	StepCommit     Step = "commit"     // index entries durable: about to append the batch's records
	StepRemove     Step = "remove"     // the batch is committed and signed: about to remove its sources
	StepQuarantine Step = "quarantine" // about to move a file into quarantine
)

// Steps lists every Step.
var Steps = []Step{StepHash, StepPut, StepRelease, StepPublish, StepCommit, StepRemove, StepQuarantine}
