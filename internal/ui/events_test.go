package ui

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestEventLogShape: every JSON event is {"time","level","event",...} in
// that order, whatever the shape of the value written.
func TestEventLogShape(t *testing.T) {
	var b bytes.Buffer
	l := NewEventLog(&b, "scanned")
	l.Encode(struct {
		Path string `json:"path"`
	}{"a.jpg"})
	l = NewEventLog(&b, "")
	l.Encode(struct {
		Summary struct {
			Records int `json:"records"`
		} `json:"summary"`
	}{})
	l.Encode(ingestEvent{Event: "quarantined", Ticket: "q-1", Reason: "phase"})
	l.Encode(ingestSummary{Event: "summary", Error: "disk full"})
	want := []string{
		`^\{"time":"[^"]+","level":"info","event":"scanned","path":"a.jpg"\}$`,
		`^\{"time":"[^"]+","level":"info","event":"summary","records":0\}$`,
		`^\{"time":"[^"]+","level":"warn","event":"quarantined","ticket":"q-1","reason":"phase"\}$`,
		`^\{"time":"[^"]+","level":"error","event":"summary",.*"error":"disk full"\}$`,
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], re)
		}
	}
}
