package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/veil-photo/veil/ingest"
	"github.com/veil-photo/veil/vault"
)

// TestWatchPrinterJSON: watch's JSON objects carry their time, a waiting
// event names the lock's holder, skipped files (met again by every pass)
// and passes that did nothing are not printed.
func TestWatchPrinterJSON(t *testing.T) {
	var out bytes.Buffer
	pr := &Printer{JSON: true, Timed: true, Stdout: &out, Stderr: &out, Inboxes: []string{"inbox"}}
	holder := vault.LockInfo{Host: "clinic-1", PID: 4123, Command: "veil ingest"}
	for _, ev := range []ingest.WatchEvent{
		{Kind: ingest.WatchWaiting, Err: &vault.LockedError{Holder: holder}, Holder: holder},
		{Kind: ingest.WatchFile, File: ingest.Event{Kind: ingest.Skipped, Path: "inbox/.DS_Store"}},
		{Kind: ingest.WatchFile, File: ingest.Event{Kind: ingest.Duplicate, Photo: "p1"}},
		{Kind: ingest.WatchPassDone, Summary: ingest.Summary{Already: 3}},
		{Kind: ingest.WatchPassDone, Summary: ingest.Summary{Ingested: 2}},
		{Kind: ingest.WatchPinned, Note: "first use of host pin /var/lib/veil/vault-1.pin"},
	} {
		pr.WatchEvent(ev, 0, 0)
	}
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if _, ok := m["time"].(string); !ok || !strings.HasPrefix(line, `{"time":`) {
			t.Errorf("no leading time: %s", line)
		}
		got = append(got, m)
	}
	if len(got) != 4 {
		t.Fatalf("printed %d objects, want waiting, duplicate, one summary and pinned:\n%s", len(got), out.String())
	}
	if got[3]["event"] != "pinned" || !strings.HasPrefix(got[3]["message"].(string), "first use of host pin") {
		t.Errorf("pinned: %v", got[3])
	}
	if got[0]["event"] != "waiting" || got[0]["holder"] != "veil ingest" || !strings.Contains(got[0]["message"].(string), "pid 4123") {
		t.Errorf("waiting: %v", got[0])
	}
	if got[1]["event"] != "duplicate" || got[1]["of"] != "p1" || got[1]["photo"] != nil {
		t.Errorf("duplicate: %v", got[1])
	}
	if got[2]["event"] != "summary" || got[2]["ingested"] != 2.0 {
		t.Errorf("summary: %v", got[2])
	}
}

// TestWatchPrinterText: problems go to stderr even with --quiet, summaries
// do not; every line of a log (not a terminal) starts with its RFC 3339
// time.
func TestWatchPrinterText(t *testing.T) {
	var stdout, stderr bytes.Buffer
	pr := &Printer{Quiet: true, Paths: true, Timed: true, Stdout: &stdout, Stderr: &stderr, Inboxes: []string{"inbox"}}
	pr.WatchEvent(ingest.WatchEvent{Kind: ingest.WatchFile, File: ingest.Event{Kind: ingest.Quarantined, Path: "inbox/a/x.jpg", Message: "unknown phase"}}, 0, 0)
	pr.WatchEvent(ingest.WatchEvent{Kind: ingest.WatchPassDone, Summary: ingest.Summary{Ingested: 1}}, 0, 0)
	pr.WatchEvent(ingest.WatchEvent{Kind: ingest.WatchReady}, 0, 0)
	pr.WatchEvent(ingest.WatchEvent{Kind: ingest.WatchPassDone, Err: errors.New("disk full")}, 0, 0)
	pr.Summary("stopped", false, ingest.Summary{Ingested: 1}, nil)
	stamp := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) `
	if re := regexp.MustCompile(stamp + `veil: inbox/a/x.jpg: unknown phase \(moved to inbox/\.quarantine\)\n$`); !re.MatchString(stderr.String()) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout with --quiet:\n%s", stdout.String())
	}
	pr.Quiet = false
	pr.Summary("stopped", false, ingest.Summary{Ingested: 1}, nil)
	if re := regexp.MustCompile(stamp + `stopped; since start: ingested 1, duplicates 0, quarantined 0, 0 B, 0\.0 s\n$`); !re.MatchString(stdout.String()) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}

// TestPrinterVerbose: -v adds a line for each committed file, by its codes
// only, and for skipped files by their inbox only.
func TestPrinterVerbose(t *testing.T) {
	var stdout, stderr bytes.Buffer
	pr := &Printer{Verbose: true, Stdout: &stdout, Stderr: &stderr, Inboxes: []string{"inbox"}}
	pr.File(ingest.Event{Kind: ingest.Ingested, Photo: "p1", Subject: "s1", Phase: "before", Format: "jpeg", Width: 4, Height: 3})
	pr.File(ingest.Event{Kind: ingest.Skipped, Path: "inbox/Mary Major/.DS_Store", Message: "hidden or temporary name"})
	out := stdout.String()
	if !strings.Contains(out, "ingested photo p1 subject s1 (before, jpeg, 4x3)") || !strings.Contains(out, "skipped a file in inbox (hidden or temporary name)") || strings.Contains(out, "Mary") {
		t.Errorf("stdout:\n%s", out)
	}
}
