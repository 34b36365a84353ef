package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenSignsOnlyItsOwnRecords: someone who can write the log folder but
// does not hold the log key appends a well-formed record, or removes the
// checkpoint, or swaps in one signed by another key. Open must sign none of
// it, name the record, and change nothing (issue 13, hole 2).
func TestOpenSignsOnlyItsOwnRecords(t *testing.T) {
	k := newKeys(t)
	recs := quarantines(t, k, 12)
	forged, err := Marshal(recs[11])
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string)
		record int64 // the record named; -1: not an *UnprovenError
	}{
		{"record appended after a committed batch", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, RecordsFile), append(forged, '\n'))
		}, 10},
		{"record appended and the stored hashes removed", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, RecordsFile), append(forged, '\n'))
			os.Remove(filepath.Join(dir, HashesFile))
		}, 10},
		{"checkpoint removed", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, CheckpointFile))
		}, 0},
		{"checkpoint and hashes removed, record appended", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, RecordsFile), append(forged, '\n'))
			os.Remove(filepath.Join(dir, CheckpointFile))
			os.Remove(filepath.Join(dir, HashesFile))
		}, 0},
		{"the last batch's pending note replayed for a copy of it", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			lines := bytes.SplitAfter(b, []byte("\n"))
			appendFile(t, filepath.Join(dir, RecordsFile), lines[len(lines)-2])
		}, 10},
		{"checkpoint signed by another key", func(t *testing.T, dir string) {
			appendFile(t, filepath.Join(dir, RecordsFile), append(forged, '\n'))
			c := checkpointOf(t, dir, k)
			other := newKeysNamed(t, k.origin)
			l, err := Open(t.TempDir(), k.origin, other.signer)
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			msg, err := SignCheckpoint(c, other.signer)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, CheckpointFile), msg)
		}, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, k)
			if _, err := l.Append(recs[:4]); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(recs[4:10]); err != nil {
				t.Fatal(err)
			}
			l.Close()
			tc.tamper(t, dir)
			before := snapshot(t, dir)

			_, err := Open(dir, k.origin, k.signer)
			var ue *UnprovenError
			switch {
			case !errors.Is(err, ErrInconsistent):
				t.Fatalf("Open = %v, want ErrInconsistent", err)
			case tc.record >= 0 && (!errors.As(err, &ue) || ue.Record != tc.record):
				t.Fatalf("Open = %v, want an UnprovenError naming record %d", err, tc.record)
			}
			after := snapshot(t, dir)
			for _, f := range []string{RecordsFile, CheckpointFile} {
				if !bytes.Equal(before[f], after[f]) {
					t.Errorf("Open changed %s", f)
				}
			}
		})
	}
}

// TestOpenCompletesItsOwnBatch: a crash after the records' fsync and before
// the new checkpoint is completed, whole batch or torn, because the pending
// note names the records.
func TestOpenCompletesItsOwnBatch(t *testing.T) {
	k := newKeys(t)
	recs := quarantines(t, k, 10)
	for _, torn := range []bool{false, true} {
		dir := t.TempDir()
		l := openLog(t, dir, k)
		l.Append(recs[:4])
		cp4, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
		l.Append(recs[4:])
		l.Close()
		want := int64(10)
		if torn {
			b, _ := os.ReadFile(filepath.Join(dir, RecordsFile))
			lines := bytes.SplitAfter(b, []byte("\n"))
			cut := len(b) - len(lines[len(lines)-2]) - len(lines[len(lines)-3])/2
			writeFile(t, filepath.Join(dir, RecordsFile), b[:cut])
			os.Remove(filepath.Join(dir, HashesFile))
			want = 8
		}
		writeFile(t, filepath.Join(dir, CheckpointFile), cp4)
		l2, err := Open(dir, k.origin, k.signer)
		if err != nil {
			t.Fatalf("torn %v: %v", torn, err)
		}
		l2.Close()
		if c := checkpointOf(t, dir, k); c.N != want {
			t.Errorf("torn %v: checkpoint signs %d records, want %d", torn, c.N, want)
		}
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, f := range []string{RecordsFile, CheckpointFile, HashesFile, PendingFile} {
		m[f], _ = os.ReadFile(filepath.Join(dir, f))
	}
	return m
}
