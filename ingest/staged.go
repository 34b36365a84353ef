package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/veil-photo/veil/ingest/lookup"
	"github.com/veil-photo/veil/internal/atomicfile"
	"github.com/veil-photo/veil/manifest"
)

// stagedFile, under VAULT/index/, is the writer's note of the batch whose
// blobs and released files it is about to name: made durable before the
// first of them gets its name, emptied once the batch's records are
// committed. A run that did not close cleanly leaves blobs and released
// files that no record names, and the next run removes them — but only
// those this note names, when the note is this host's (a MAC under the
// index key) and was written on the very log that is there now (the log's
// checkpoint at the note's base is the one it records). A log put back
// from a copy, or another vault's, leaves unlogged files that no note
// proves to be debris: those are never removed (UnloggedError).
//
//	veil staged batch v1
//	<vault origin>
//	<records of the log before the batch>
//	<base64 root of the log's tree at that size>
//	blob <hex sha256>            (one per blob of the batch)
//	released <path>              (one per released file, slash-separated)
//	mac <hex HMAC of the lines above>
const stagedFile = "ingest.staged"

const stagedHeader = "veil staged batch v1"

// stagedNote is the body of the note.
type stagedNote struct {
	origin   string
	base     manifest.Checkpoint // the log before the batch (Origin unused)
	blobs    map[string]bool
	released map[string]bool
}

func (n *stagedNote) text(blobs, released []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s\n%d\n%s\n", stagedHeader, n.origin, n.base.N, base64.StdEncoding.EncodeToString(n.base.Hash[:]))
	for _, h := range blobs {
		fmt.Fprintf(&b, "blob %s\n", h)
	}
	for _, p := range released {
		fmt.Fprintf(&b, "released %s\n", p)
	}
	return b.Bytes()
}

// parseStaged returns the note in b if it is whole and made with keys;
// ok is false for an empty, torn or foreign note.
func parseStaged(b []byte, keys lookup.Keys) (n stagedNote, ok bool) {
	i := bytes.LastIndex(b, []byte("\nmac "))
	if i < 0 {
		return stagedNote{}, false
	}
	body, macLine := b[:i+1], b[i+len("\nmac "):]
	want := keys.Note(body)
	got, err := hex.DecodeString(strings.TrimSuffix(string(macLine), "\n"))
	if err != nil || !bytes.Equal(got, want[:]) || !bytes.HasSuffix(macLine, []byte("\n")) {
		return stagedNote{}, false
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) < 4 || lines[0] != stagedHeader {
		return stagedNote{}, false
	}
	size, err := strconv.ParseInt(lines[2], 10, 64)
	root, rerr := base64.StdEncoding.Strict().DecodeString(lines[3])
	if err != nil || size < 0 || rerr != nil || len(root) != len(n.base.Hash) {
		return stagedNote{}, false
	}
	n = stagedNote{origin: lines[1], base: manifest.Checkpoint{N: size}, blobs: map[string]bool{}, released: map[string]bool{}}
	copy(n.base.Hash[:], root)
	for _, l := range lines[4:] {
		switch kind, v, _ := strings.Cut(l, " "); kind {
		case "blob":
			n.blobs[v] = true
		case "released":
			n.released[v] = true
		default:
			return stagedNote{}, false
		}
	}
	return n, true
}

// stagedLog is the open note file of a vault committer.
type stagedLog struct {
	f    *os.File
	keys lookup.Keys
}

// openStaged opens the note in indexDir, creating it (durably) if missing,
// and returns it with the note it holds, if any.
func openStaged(indexDir string, keys lookup.Keys) (*stagedLog, stagedNote, bool, error) {
	path := filepath.Join(indexDir, stagedFile)
	_, statErr := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, stagedNote{}, false, fmt.Errorf("ingest: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// Its name must survive a crash as its contents will.
		if err := atomicfile.SyncDir(indexDir); err != nil {
			f.Close()
			return nil, stagedNote{}, false, fmt.Errorf("ingest: %w", err)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		f.Close()
		return nil, stagedNote{}, false, fmt.Errorf("ingest: %s: %w", path, err)
	}
	n, ok := parseStaged(b, keys)
	return &stagedLog{f: f, keys: keys}, n, ok, nil
}

// write makes the note of a batch durable before any of its blobs and
// released files is named: in place, one fsync.
func (s *stagedLog) write(origin string, base manifest.Checkpoint, blobs, released []string) error {
	n := stagedNote{origin: origin, base: base}
	body := n.text(blobs, released)
	mac := s.keys.Note(body)
	msg := fmt.Appendf(body, "mac %x\n", mac[:])
	if _, err := s.f.WriteAt(msg, 0); err != nil {
		return fmt.Errorf("ingest: %s: %w", stagedFile, err)
	}
	if err := s.f.Truncate(int64(len(msg))); err != nil {
		return fmt.Errorf("ingest: %s: %w", stagedFile, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("ingest: %s: %w", stagedFile, err)
	}
	return nil
}

// clear empties the note once its batch is committed, so that a log later
// put back to just before that batch finds nothing the note would prove.
// Not synced: a note that outlives a crash names only logged files then.
func (s *stagedLog) clear() { s.f.Truncate(0) }

func (s *stagedLog) close() error { return s.f.Close() }

// proves reports whether n is a note of this vault written on the log l
// holds now: l extends the log the note was written on.
func (n *stagedNote) proves(origin string, l *manifest.Log) bool {
	return n.origin == origin && checkExtends(l, lookup.Committed{N: n.base.N, Root: n.base.Hash}) == nil
}
