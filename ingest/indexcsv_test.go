package ingest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veil-photo/veil/manifest"
	"github.com/veil-photo/veil/release"
)

// TestIndexCSVTamperKeptAsEvidence: index.csv is repaired silently only
// where a crash explains the difference (a missing tail of rows); anything
// else is reported, the old file kept beside the new one (issue 13,
// hole 4: researchers read phase and subject from this file), and the run
// refuses to take anything (red team poc8: a swapped vault shows first as
// an index.csv that does not match its log).
func TestIndexCSVTamperKeptAsEvidence(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(b []byte) []byte // nil: remove the file
		report bool
	}{
		{"a missing tail of rows (a crash)", func(b []byte) []byte {
			return b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1+10]
		}, false},
		{"a phase changed", func(b []byte) []byte { return bytes.Replace(b, []byte(",before,"), []byte(",after,"), 1) }, true},
		{"a row added", func(b []byte) []byte {
			lines := bytes.SplitAfter(b, []byte("\n"))
			return append(b, lines[1]...)
		}, true},
		{"removed", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			put(t, e.inbox, "Jane Doe/before/a.jpg", sample(t, "phone-rotated6.jpg"))
			put(t, e.inbox, "Jane Doe/after/b.png", sample(t, "clinic.png"))
			if _, err := e.run(t, Options{}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(e.release, release.IndexFile)
			good, _ := os.ReadFile(path)
			var tampered []byte
			if tc.edit == nil {
				os.Remove(path)
			} else {
				tampered = tc.edit(bytes.Clone(good))
				os.WriteFile(path, tampered, 0o640)
			}
			put(t, e.inbox, "Jane Doe/after/c.webp", sample(t, "rose-exif.webp"))
			sum, err := e.run(t, Options{})
			if tc.report != errors.Is(err, manifest.ErrInconsistent) || !tc.report && err != nil {
				t.Fatalf("run: %v; want a refusal: %v", err, tc.report)
			}
			if tc.report != (sum.Ingested == 0) {
				t.Errorf("%d ingested; a run that finds index.csv changed must take nothing", sum.Ingested)
			}
			if !tc.report {
				return
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
				t.Errorf("index.csv not rewritten from the log:\n%s", got)
			}
			if (sum.Tampered == 1) != tc.report || (e.count(IndexTampered) == 1) != tc.report {
				t.Fatalf("tampering reported %d times, want %v", sum.Tampered, tc.report)
			}
			kept, _ := filepath.Glob(path + ".replaced-*")
			if wantKept := tc.report && tc.edit != nil; (len(kept) == 1) != wantKept {
				t.Fatalf("evidence files %v, want one: %v", kept, wantKept)
			}
			if len(kept) == 1 {
				if b, _ := os.ReadFile(kept[0]); !bytes.Equal(b, tampered) {
					t.Error("the evidence is not the file as it was found")
				}
				for _, ev := range e.events {
					if ev.Kind == IndexTampered && !strings.Contains(ev.Message, filepath.Base(kept[0])) {
						t.Errorf("the report does not name the evidence: %s", ev.Message)
					}
				}
			}
			// Someone has looked, and moved the evidence away: the next run
			// takes the photo.
			for _, k := range kept {
				os.Remove(k)
			}
			if sum, err := e.run(t, Options{}); err != nil || sum.Ingested != 1 {
				t.Fatalf("the run after the refusal: %d ingested, %v", sum.Ingested, err)
			}
			e.verify(t)
		})
	}
}
